package multiprocessing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every ```java block of README.md compiles against the library as it is. */
class ReadmeExamplesTest {

    @Test
    void readmeExamplesCompile(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher block = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> files = new ArrayList<>();
        while (block.find()) {
            String source = block.group(1);
            Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
            assertTrue(name.find(), "a README example declares a public class:\n" + source);
            Path file = dir.resolve(name.group(1) + ".java");
            Files.writeString(file, source);
            files.add(file.toString());
        }
        assertTrue(files.size() >= 4, "README has its examples: " + files);
        java.util.spi.ToolProvider javac = java.util.spi.ToolProvider.findFirst("javac").orElseThrow();
        List<String> args = new ArrayList<>(List.of("-d", dir.resolve("classes").toString(),
                "-cp", System.getProperty("java.class.path"), "-proc:none"));
        args.addAll(files);
        StringWriter errors = new StringWriter();
        PrintWriter out = new PrintWriter(errors);
        int status = javac.run(out, out, args.toArray(String[]::new));
        assertEquals(0, status, "README examples do not compile " + errors);
    }
}
