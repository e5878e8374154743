package multiprocessing.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** What the hand-written bar draws, how often, and what a pool's map makes it draw. */
class ProgressBarTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8));

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** The redraws, each after its carriage return. */
    private List<String> draws() {
        return List.of(output().split("\r")).stream().filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void aKnownTotalEndsWithAFullBarOnItsOwnLine() {
        long start = System.nanoTime();
        for (int done = 0; done <= 1000; done++) {
            bar.progress(done, 1000);
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        List<String> draws = draws();
        String last = draws.getLast();
        assertTrue(last.startsWith("[" + "#".repeat(30) + "] 100%  1000/1000"), last);
        assertTrue(last.contains(" it/s  in 0:00:0"), last);
        assertTrue(output().endsWith(System.lineSeparator()), "the last draw ends the line");
        // At most one draw per 100 ms, and the last one always.
        assertTrue(draws.size() <= 2 + elapsedMs / 100, draws.size() + " draws in " + elapsedMs + " ms");
    }

    @Test
    void theFirstDrawOfAKnownTotalShowsAnEta() {
        bar.progress(250, 1000);
        String first = draws().getFirst();
        assertTrue(first.startsWith("[" + "#".repeat(7) + "-".repeat(23) + "]  25%  250/1000"), first);
        assertTrue(first.contains("  ETA 0:"), first);
        assertTrue(!output().contains("\n"), "the line stays open: " + output());
    }

    @Test
    void anUnknownTotalShowsTheCountThenTheBarOnceKnown() {
        bar.progress(5, -1);
        assertTrue(draws().getFirst().startsWith("5/?  "), draws().getFirst());
        bar.progress(10, 10);
        assertTrue(draws().getLast().contains("100%  10/10"), draws().getLast());
    }

    @Test
    void afterTheEndNothingMoreIsDrawn() {
        bar.progress(3, 3);
        String ended = output();
        bar.progress(3, 3);
        bar.progress(4, 4);
        assertEquals(ended, output());
    }

    @Test
    void anEmptyCallEndsAtOnce() {
        bar.progress(0, 0);
        assertTrue(output().startsWith("\r0/0  "), output());
        assertTrue(output().endsWith(System.lineSeparator()), output());
    }

    @Test
    void aPoolWithAProgressBarDrawsItsMapOnStandardError() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        List<Integer> squares;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (Pool pool = new ThreadPool(2).withProgressBar()) {
            squares = pool.map(x -> x * x, IntStream.range(0, 40).boxed().toList(), 4);
        } finally {
            System.setErr(saved);
        }
        assertEquals(1521, squares.getLast());
        String drawn = err.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.contains("100%  40/40"), drawn);
        assertTrue(drawn.endsWith(System.lineSeparator()), drawn);
    }
}
