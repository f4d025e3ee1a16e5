package dev.sparkllm.engine.prompt;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpretException;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.OutputTooBigException;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.tree.Node;

import jinjava.javax.el.CompositeELResolver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Hugging Face style chat template (Jinja), rendered with Jinjava configured to behave as transformers'
 * environment does: {@code trim_blocks} and {@code lstrip_blocks}, Python string methods, Python whitespace in
 * {@code trim}, {@code raise_exception(...)}, {@code strftime_now(...)}, and the variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and the model's other special tokens.
 *
 * <p>Which parts of the output are data: the template is rendered twice, once as is and once with every
 * message's content wrapped in two Unicode noncharacters (U+FDD0 ... U+FDD1) that no real text contains. The
 * wrapped render, with the sentinels removed, must equal the plain one; the sentinels then mark the content
 * spans, and everything else is the template's own markup.
 *
 * <p>Limits ({@link RenderLimits}): each rendering of a conversation has a deadline, checked at every loop
 * iteration and scope (loop, macro call) the interpreter enters, and an output-size limit, which Jinjava applies to
 * the output, to every loop's output and to every string a template builds; a template that hits one fails the row
 * with a {@link PromptException} naming it, and one that hits it for a one-message conversation is refused.
 *
 * <p>Known differences from Jinja: {@code {{ true }}} prints {@code true} (Jinja: {@code True}), {@code {{ none }}}
 * prints nothing (Jinja: {@code None}), string repetition ({@code 'ab' * 2}) is unsupported, and {@code tojson}
 * writes compact JSON (Jinja/transformers: {@code ", "} and {@code ": "} separators). Chat templates for
 * Llama, Mistral and ChatML models use none of these in their output.
 */
final class JinjaChatTemplate implements ChatTemplate {

    static final char OPEN = '\uFDD0';
    static final char CLOSE = '\uFDD1';
    static final String SENTINELS = "" + OPEN + CLOSE;

    private static final Jinjava JINJAVA = newJinjava();

    private final String name;
    private final String source;
    private final Map<String, String> specialTokens;
    private final RenderLimits limits;
    /** Jinjava's settings with the output limited to {@code limits.maxChars()}. */
    private final JinjavaConfig plainConfig;
    /** The same with room for the two sentinels around each inserted content (see {@link #render}). */
    private final JinjavaConfig markedConfig;
    /** The parsed template, one per thread: parsing once saves most of a render's cost. */
    private final ThreadLocal<Node> tree;

    /**
     * @param name          how the user named it (for messages)
     * @param source        the Jinja text
     * @param specialTokens variables such as {@code bos_token -> "<s>"}
     * @throws IllegalArgumentException when the template does not parse
     */
    JinjaChatTemplate(String name, String source, Map<String, String> specialTokens) {
        this(name, source, specialTokens, RenderLimits.defaults());
    }

    /**
     * @param limits how long one rendering may take and how large its output may grow
     * @throws IllegalArgumentException when the template does not parse, or cannot render a one-message
     *                                  conversation within the limits
     */
    JinjaChatTemplate(String name, String source, Map<String, String> specialTokens, RenderLimits limits) {
        this.name = Objects.requireNonNull(name, "name");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.plainConfig = config(limits.maxChars());
        // Marking wraps every insertion of content in two sentinels; a template may insert (empty) content many
        // times, so the marked render gets more room. The plain render's limit is the one that counts.
        this.markedConfig = config(limits.maxChars() > Long.MAX_VALUE / 4 ? Long.MAX_VALUE : 3 * limits.maxChars() + 16);
        // Jinja drops one newline at the very end of a template (keep_trailing_newline=False); Jinjava keeps it.
        this.source = withoutTrailingNewline(Objects.requireNonNull(source, "source"));
        this.specialTokens = Map.copyOf(specialTokens);
        if (source.indexOf(OPEN) >= 0 || source.indexOf(CLOSE) >= 0) {
            throw new IllegalArgumentException("chat template " + name + " contains U+FDD0/U+FDD1, which are reserved");
        }
        this.tree = ThreadLocal.withInitial(() -> JINJAVA.newInterpreter().parse(this.source));
        // Jinjava reports syntax errors when rendering; try a plain conversation so a broken template fails now,
        // and so does one that loops or grows without end. The probe may be the JVM's first Jinja render (class
        // loading, no JIT yet), so it gets at least the default time.
        RenderLimits probeLimits = new RenderLimits(Math.max(limits.timeoutMillis(), RenderLimits.DEFAULT_TIMEOUT_MILLIS),
                limits.maxChars());
        Rendering probe;
        try {
            probe = run(null, List.of(ChatMessage.user("hello")), true, false, deadline(probeLimits), probeLimits);
        } catch (PromptException e) {
            throw new IllegalArgumentException("chat template " + name + " cannot render a one-message conversation: "
                    + e.getMessage(), e);
        }
        for (TemplateError e : probe.errors()) {
            boolean broken = e.getSeverity() == TemplateError.ErrorType.FATAL
                    || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR;
            if (broken && raisedMessage(e) == null) {
                throw new IllegalArgumentException("chat template " + name + " is not valid Jinja: " + describe(e));
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    String source() {
        return source;
    }

    @Override
    public RenderedPrompt render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        for (ChatMessage m : messages) {
            if (m.content().indexOf(OPEN) >= 0 || m.content().indexOf(CLOSE) >= 0) {
                throw new PromptException("a " + m.role() + " message contains U+FDD0 or U+FDD1 (Unicode"
                        + " noncharacters, not text); remove them from the data");
            }
        }
        long deadline = deadline(limits);
        String plain = renderText(messages, addGenerationPrompt, false, deadline);
        String marked = renderText(messages, addGenerationPrompt, true, deadline);
        if (!withoutSentinels(marked).equals(plain)) {
            throw untraceable("its output changes when the content is marked");
        }
        return split(marked);
    }

    /** The template's output for a conversation, without marking content. */
    String renderText(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return renderText(messages, addGenerationPrompt, false, deadline(limits));
    }

    private String renderText(List<ChatMessage> messages, boolean addGenerationPrompt, boolean mark, long deadline) {
        Rendering r = run(tree.get(), messages, addGenerationPrompt, mark, deadline, limits);
        for (TemplateError e : r.errors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            String raised = raisedMessage(e);
            if (raised != null) throw new PromptException("chat template " + name + " rejects the conversation: " + raised);
            throw new IllegalArgumentException("chat template " + name + " failed: " + describe(e));
        }
        return r.output();
    }

    private static long deadline(RenderLimits limits) {
        return System.nanoTime() + limits.timeoutMillis() * 1_000_000L;
    }

    /** What one render produced: its output and the errors Jinjava recorded. */
    private record Rendering(String output, List<TemplateError> errors) {
    }

    /**
     * Renders the parsed template, or parses and renders the source when {@code parsed} is null (then a failure
     * is returned as an error, as Jinjava's renderForResult does), within the limits: a render that ran past the
     * deadline or grew past the size limit throws the {@link PromptException} naming the limit ({@code limits}').
     */
    private Rendering run(Node parsed, List<ChatMessage> messages, boolean addGenerationPrompt, boolean mark, long deadline,
                          RenderLimits limits) {
        // As Jinjava.renderForResult does, but over the global context without copying it (templates only read it;
        // their own variables go to the render's context), and with an interpreter that keeps the deadline.
        JinjavaConfig config = mark ? markedConfig : plainConfig;
        Context context = new Context(JINJAVA.getGlobalContext(), context(messages, addGenerationPrompt, mark),
                config.getDisabled());
        LimitedInterpreter interpreter = new LimitedInterpreter(JINJAVA, context, config, deadline);
        String output = null;
        List<TemplateError> errors = new ArrayList<>();
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            output = parsed == null ? interpreter.render(source) : interpreter.render(parsed);
        } catch (RuntimeException e) {
            if (interpreter.timedOut() || System.nanoTime() - deadline > 0) throw limits.timeExceeded(name);
            if (causedByOutputSize(e)) throw limits.sizeExceeded(name);
            if (parsed == null) {
                errors.add(e instanceof InterpretException ie ? TemplateError.fromSyntaxError(ie) : TemplateError.fromException(e));
            } else if (e instanceof InterpretException) {
                throw new IllegalArgumentException("chat template " + name + " failed: " + e.getMessage(), e);
            } else {
                throw e;
            }
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        // Also when the time went to a step that cannot be interrupted (a filter over a huge string, say).
        if (interpreter.timedOut() || System.nanoTime() - deadline > 0) throw limits.timeExceeded(name);
        errors.addAll(interpreter.getErrorsCopy());
        for (TemplateError e : errors) {
            if (e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG || causedByOutputSize(e.getException())) {
                throw limits.sizeExceeded(name);
            }
        }
        if (output != null && output.length() > config.getMaxOutputSize()) throw limits.sizeExceeded(name);
        return new Rendering(output, errors);
    }

    private static boolean causedByOutputSize(Throwable t) {
        for (; t != null; t = t.getCause()) if (t instanceof OutputTooBigException) return true;
        return false;
    }

    /**
     * Jinjava's interpreter with a deadline, checked where a template can spend unbounded time: every loop
     * iteration (the for tag wraps each item) and every scope entered (a loop, a macro call). Past it, each check
     * throws, so the render unwinds however Jinjava handles the exception at each level.
     */
    private static final class LimitedInterpreter extends JinjavaInterpreter {
        private final long deadline;
        private boolean timedOut;

        LimitedInterpreter(Jinjava application, Context context, JinjavaConfig config, long deadline) {
            super(application, context, config);
            this.deadline = deadline;
        }

        boolean timedOut() {
            return timedOut;
        }

        private void check() {
            if (timedOut || System.nanoTime() - deadline > 0) {
                timedOut = true;
                throw new RenderTimeExceeded();
            }
        }

        @Override
        public Object wrap(Object object) {
            check();
            return super.wrap(object);
        }

        @Override
        public InterpreterScopeClosable enterScope() {
            check();
            return super.enterScope();
        }

        @Override
        public InterpreterScopeClosable enterScope(Map<Context.Library, Set<String>> disabled) {
            check();
            return super.enterScope(disabled);
        }
    }

    /** Thrown inside Jinjava at the deadline; reported as the time limit's {@link PromptException}. */
    private static final class RenderTimeExceeded extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RenderTimeExceeded() {
            super("the template's time limit is exhausted", null, false, false);
        }
    }

    private Map<String, Object> context(List<ChatMessage> messages, boolean addGenerationPrompt, boolean mark) {
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("role", m.role());
            map.put("content", mark ? OPEN + m.content() + CLOSE : m.content());
            list.add(map);
        }
        Map<String, Object> context = new HashMap<>(specialTokens);
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        return context;
    }

    /** Cuts the marked output into markup and content pieces. */
    private RenderedPrompt split(String marked) {
        RenderedPrompt.Builder out = RenderedPrompt.builder();
        StringBuilder run = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < marked.length(); i++) {
            char c = marked.charAt(i);
            if (c == OPEN || c == CLOSE) {
                int next = depth + (c == OPEN ? 1 : -1);
                if (next < 0) throw untraceable("it cuts into message content");
                if ((depth == 0) != (next == 0)) {
                    out.add(run.toString(), depth > 0);
                    run.setLength(0);
                }
                depth = next;
            } else {
                run.append(c);
            }
        }
        if (depth != 0) throw untraceable("it cuts into message content");
        out.add(run.toString(), false);
        return out.build();
    }

    private PromptException untraceable(String why) {
        return new PromptException("chat template " + name + " transforms message text so that the content cannot"
                + " be told apart from the template's markup (" + why + "); use a named template or a template"
                + " file, or allow special tokens in content");
    }

    private static String withoutTrailingNewline(String s) {
        if (s.endsWith("\r\n")) return s.substring(0, s.length() - 2);
        if (s.endsWith("\n") || s.endsWith("\r")) return s.substring(0, s.length() - 1);
        return s;
    }

    static String withoutSentinels(String s) {
        if (s.indexOf(OPEN) < 0 && s.indexOf(CLOSE) < 0) return s;
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != OPEN && c != CLOSE) sb.append(c);
        }
        return sb.toString();
    }

    private static String raisedMessage(TemplateError e) {
        for (Throwable t = e.getException(); t != null; t = t.getCause()) {
            if (t instanceof TemplateRaised r) return r.getMessage();
        }
        return null;
    }

    private static String describe(TemplateError e) {
        String where = e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "";
        String field = e.getFieldName() != null ? " in '" + e.getFieldName() + "'" : "";
        return e.getMessage() + field + where;
    }

    /** What {@code raise_exception(message)} throws; Jinjava records it as a render error. */
    static final class TemplateRaised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        TemplateRaised(String message) {
            super(message);
        }
    }

    /** Jinja's {@code raise_exception}, as transformers defines it for chat templates. */
    public static Object raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** Jinja's {@code strftime_now}, as transformers defines it for chat templates. */
    public static String strftimeNow(String format) {
        return Strftime.now(format);
    }

    /**
     * Jinjava set up like transformers' Jinja environment, with output and built strings limited to
     * {@code maxChars} (0: unlimited).
     */
    private static JinjavaConfig config(long maxChars) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        LegacyOverrides jinjaSemantics = LegacyOverrides.newBuilder()
                .withEvaluateMapKeys(true)
                .withIterateOverMapKeys(true)
                .withUsePyishObjectMapper(true)
                .withUseNaturalOperatorPrecedence(true)
                .withParseWhitespaceControlStrictly(true)
                .withAllowAdjacentTextNodes(true)
                .withKeepNullableLoopValues(true)
                .build();
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withElResolver(resolver)
                .withLegacyOverrides(jinjaSemantics)
                .withMaxOutputSize(maxChars)
                .withMaxStringLength(maxChars)
                .build();
    }

    private static Jinjava newJinjava() {
        Jinjava jinjava = new Jinjava(config(0));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                JinjaChatTemplate.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                JinjaChatTemplate.class, "strftimeNow", String.class));
        jinjava.getGlobalContext().registerFilter(new PythonTrim());
        for (String name : List.of("length", "count")) {
            jinjava.getGlobalContext().registerFilter(new CodePointLength(name, jinjava.getGlobalContext().getFilter(name)));
        }
        return jinjava;
    }

    /** Jinja's {@code length} of a string counts characters (code points), not UTF-16 units as Java does. */
    private record CodePointLength(String name, Filter builtIn) implements Filter {
        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var instanceof String s) return withoutSentinels(s).codePointCount(0, withoutSentinels(s).length());
            return builtIn.filter(var, interpreter, args);
        }
    }

    /** Jinja's {@code trim}: Python's {@code str.strip}, looking past content sentinels. */
    private static final class PythonTrim implements Filter {
        @Override
        public String getName() {
            return "trim";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            String chars = args.length > 0 ? args[0] : null;
            return PythonStrings.strip(Objects.toString(var, ""), chars, true, true, SENTINELS);
        }
    }
}
