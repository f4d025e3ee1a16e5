package dev.sparkllm.engine.prompt;

import java.io.Serializable;
import java.util.Map;

/**
 * How long rendering one prompt may take and how large its output may grow. A chat template is a program (Jinja
 * has loops, and a template with three nested loops over {@code range(1000)} runs for minutes), so a template that
 * hits a limit fails the row with a {@link PromptException} naming the limit instead of holding an executor. The
 * defaults are far above what real chat templates need (they render in well under a millisecond, and a prompt of a
 * million tokens is about four million characters).
 *
 * @param timeoutMillis most milliseconds one rendering of a conversation may take (engine option
 *                      {@value #TIMEOUT_OPTION})
 * @param maxChars      most characters a rendered prompt may have (engine option {@value #MAX_CHARS_OPTION})
 */
public record RenderLimits(long timeoutMillis, long maxChars) implements Serializable {

    public static final String TIMEOUT_OPTION = "template_timeout_ms";
    public static final String MAX_CHARS_OPTION = "template_max_chars";
    public static final long DEFAULT_TIMEOUT_MILLIS = 5_000;
    public static final long DEFAULT_MAX_CHARS = 4_000_000;

    public RenderLimits {
        if (timeoutMillis < 1) throw new IllegalArgumentException(TIMEOUT_OPTION + " must be at least 1 ms, got " + timeoutMillis);
        if (maxChars < 1) throw new IllegalArgumentException(MAX_CHARS_OPTION + " must be at least 1, got " + maxChars);
    }

    public static RenderLimits defaults() {
        return new RenderLimits(DEFAULT_TIMEOUT_MILLIS, DEFAULT_MAX_CHARS);
    }

    /** The limits an engine-option map sets ({@value #TIMEOUT_OPTION}, {@value #MAX_CHARS_OPTION}), else the defaults. */
    public static RenderLimits fromOptions(Map<String, String> options) {
        if (options == null) return defaults();
        return new RenderLimits(positive(options, TIMEOUT_OPTION, DEFAULT_TIMEOUT_MILLIS),
                positive(options, MAX_CHARS_OPTION, DEFAULT_MAX_CHARS));
    }

    private static long positive(Map<String, String> options, String name, long fallback) {
        String v = options.get(name);
        if (v == null || v.isBlank()) return fallback;
        try {
            long n = Long.parseLong(v.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // named below
        }
        throw new IllegalArgumentException("engine option " + name + " must be a whole number of at least 1, got '" + v + "'");
    }

    /** The row error for a rendering that ran past the time limit. */
    PromptException timeExceeded(String template) {
        return new PromptException("template " + template + " took longer than " + timeoutMillis + " ms to render this"
                + " conversation, the limit set by the engine option " + TIMEOUT_OPTION + "; simplify the template or"
                + " raise the limit");
    }

    /** The row error for a rendering whose output grew past the size limit. */
    PromptException sizeExceeded(String template) {
        return new PromptException("template " + template + " rendered more than " + maxChars + " characters for this"
                + " conversation, the limit set by the engine option " + MAX_CHARS_OPTION + "; shorten the prompt,"
                + " simplify the template or raise the limit");
    }
}
