package multiprocessing.internal.util;

import java.nio.charset.StandardCharsets;

/**
 * Python's {@code repr} of the values the library shows as Python would (a ShareableList's
 * items, a Namespace's attributes): {@code 'text'}, {@code b'bytes'}, {@code None},
 * {@code True}; any other value as its {@code toString()}.
 */
public final class PyRepr {
    private PyRepr() {}

    /** {@return {@code v} as Python's repr writes it} */
    public static String of(Object v) {
        if (v == null) {
            return "None";
        }
        if (v instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (v instanceof String text) {
            char q = quote(text.indexOf('\'') >= 0, text.indexOf('"') >= 0);
            StringBuilder r = new StringBuilder().append(q);
            text.codePoints().forEach(c -> escape(r, c, q, Integer.MAX_VALUE));
            return r.append(q).toString();
        }
        if (v instanceof byte[] bytes) {
            String ascii = new String(bytes, StandardCharsets.ISO_8859_1);
            char q = quote(ascii.indexOf('\'') >= 0, ascii.indexOf('"') >= 0);
            StringBuilder r = new StringBuilder("b").append(q);
            ascii.chars().forEach(c -> escape(r, c, q, 0x7f));
            return r.append(q).toString();
        }
        return String.valueOf(v);
    }

    /** Python's choice of quotes: single ones, unless only single ones are inside. */
    private static char quote(boolean single, boolean dbl) {
        return single && !dbl ? '"' : '\'';
    }

    /**
     * Appends {@code c} as Python's repr writes it inside quotes {@code q}: hexadecimal escapes
     * for control characters and from {@code hexFrom} on.
     */
    private static void escape(StringBuilder r, int c, char q, int hexFrom) {
        if (c == '\\' || c == q) {
            r.append('\\').appendCodePoint(c);
        } else if (c == '\n') {
            r.append("\\n");
        } else if (c == '\r') {
            r.append("\\r");
        } else if (c == '\t') {
            r.append("\\t");
        } else if (c < 0x20 || c == 0x7f || c >= hexFrom) {
            r.append(String.format("\\x%02x", c));
        } else {
            r.appendCodePoint(c);
        }
    }
}
