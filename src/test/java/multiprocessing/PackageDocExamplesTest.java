package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The examples of the Javadoc's package pages are README's, letter for letter: javadoc cannot
 * compile a snippet, but {@link ReadmeExamplesTest} compiles README's, so a snippet that is a
 * copy of one stays correct. And every README example is on some package page.
 */
class PackageDocExamplesTest {

    private static final Path SOURCES = Path.of("src/main/java");

    /** README's ```java blocks, by the public class each declares. */
    private static Map<String, String> readmeExamples() throws IOException {
        Map<String, String> examples = new LinkedHashMap<>();
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL)
                .matcher(Files.readString(Path.of("README.md")));
        while (block.find()) {
            Matcher name = Pattern.compile("public class (\\w+)").matcher(block.group(1));
            assertTrue(name.find(), "a README example declares a public class:\n" + block.group(1));
            examples.put(name.group(1), block.group(1).stripTrailing());
        }
        return examples;
    }

    /** The {@code @snippet} bodies of a doc comment file, with each line's " * " taken off. */
    static List<String> snippets(String source) {
        List<String> found = new ArrayList<>();
        String open = "{@snippet lang=\"java\" :";
        for (int at = source.indexOf(open); at >= 0; at = source.indexOf(open, at + 1)) {
            int depth = 1;
            int end = at + open.length();
            while (depth > 0) {
                char c = source.charAt(end++);
                depth += c == '{' ? 1 : c == '}' ? -1 : 0;
            }
            String body = source.substring(at + open.length(), end - 1);
            StringBuilder text = new StringBuilder();
            for (String line : body.split("\n", -1)) {
                text.append(line.replaceFirst("^\\s*\\* ?", "")).append('\n');
            }
            found.add(text.toString().strip());
        }
        return found;
    }

    private static Map<Path, List<String>> docSnippets() throws IOException {
        Map<Path, List<String>> byFile = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.getFileName().toString().equals("package-info.java")
                    || p.getFileName().toString().equals("module-info.java")).sorted().toList()) {
                List<String> found = snippets(Files.readString(f));
                if (!found.isEmpty()) {
                    byFile.put(f, found);
                }
            }
        }
        return byFile;
    }

    @Test
    void everyPackageExampleIsAReadmeExample() throws IOException {
        Map<String, String> readme = readmeExamples();
        Map<Path, List<String>> docs = docSnippets();
        assertTrue(docs.size() >= 5, "the package pages have their examples: " + docs.keySet());
        for (Map.Entry<Path, List<String>> e : docs.entrySet()) {
            for (String snippet : e.getValue()) {
                assertTrue(readme.containsValue(snippet.stripTrailing()), e.getKey()
                        + " has an example that is no README example (copy it from README.md, "
                        + "whose examples are compiled):\n" + snippet);
            }
        }
    }

    @Test
    void everyReadmeExampleIsOnAPackagePage() throws IOException {
        List<String> onPages = docSnippets().values().stream().flatMap(List::stream).toList();
        for (Map.Entry<String, String> e : readmeExamples().entrySet()) {
            assertTrue(onPages.contains(e.getValue()), "README's example " + e.getKey()
                    + " is on no package page: copy it into the package-info.java of its package");
        }
    }

    @Test
    void aSnippetIsReadBackAsWritten() {
        String doc = """
                /**
                 * Text.
                 * {@snippet lang="java" :
                 * public class A {
                 *     void f() { if (true) { } }
                 *
                 * }
                 * }
                 */
                """;
        List<String> found = snippets(doc);
        assertTrue(found.equals(List.of("public class A {\n    void f() { if (true) { } }\n\n}")),
                found.toString());
    }
}
