package dev.sparkllm.engine.prompt;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Python {@code str} methods for Jinja templates ({@code content.strip()}, {@code .startswith(...)},
 * {@code .split(...)}, ...), which chat templates call as if the values were Python strings. Without this,
 * Jinjava would call Java's methods of the same name (with different whitespace rules) or fail.
 *
 * <p>Stripping looks past the content sentinels of {@link JinjaChatTemplate}; tests such as {@code startswith}
 * look at the text without them, so a sentinel-wrapped value behaves like the bare value.
 */
final class PythonStringMethods extends ELResolver {

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || method == null) return null;
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(s, method.toString(), args);
        if (result == NOT_HANDLED) return null;
        context.setPropertyResolved(true);
        return result;
    }

    private static final Object NOT_HANDLED = new Object();

    private static Object call(String s, String method, Object[] args) {
        String sentinels = JinjaChatTemplate.SENTINELS;
        String bare = JinjaChatTemplate.withoutSentinels(s);
        switch (method) {
            case "strip":
                return PythonStrings.strip(s, charsArg(args), true, true, sentinels);
            case "lstrip":
                return PythonStrings.strip(s, charsArg(args), true, false, sentinels);
            case "rstrip":
                return PythonStrings.strip(s, charsArg(args), false, true, sentinels);
            case "startswith":
                return anyOf(args, p -> bare.startsWith(p));
            case "endswith":
                return anyOf(args, p -> bare.endsWith(p));
            case "upper":
                return s.toUpperCase(Locale.ROOT);
            case "lower":
                return s.toLowerCase(Locale.ROOT);
            case "capitalize":
                return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "title":
                return title(s);
            case "replace":
                return args.length >= 2 ? replace(s, str(args[0]), str(args[1]), args.length > 2 ? toInt(args[2]) : -1) : NOT_HANDLED;
            case "split":
                return split(s, args.length > 0 && args[0] != null ? str(args[0]) : null, args.length > 1 ? toInt(args[1]) : -1);
            case "find":
                return args.length >= 1 ? bare.indexOf(str(args[0])) : NOT_HANDLED;
            case "count":
                return args.length >= 1 ? count(bare, str(args[0])) : NOT_HANDLED;
            case "join":
                return args.length == 1 && args[0] instanceof Collection<?> c ? join(s, c) : NOT_HANDLED;
            case "isspace":
                return !bare.isEmpty() && bare.chars().allMatch(c -> PythonStrings.isSpace((char) c));
            default:
                return NOT_HANDLED;
        }
    }

    private static String charsArg(Object[] args) {
        return args.length > 0 && args[0] != null ? str(args[0]) : null;
    }

    private interface StringTest {
        boolean test(String prefix);
    }

    /** Python accepts a string or a tuple of strings; Jinja's tuples arrive as lists. */
    private static boolean anyOf(Object[] args, StringTest test) {
        if (args.length == 0) return false;
        if (args[0] instanceof Collection<?> c) {
            for (Object o : c) if (test.test(str(o))) return true;
            return false;
        }
        return test.test(str(args[0]));
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean previousCased = false;
        for (char c : s.toCharArray()) {
            sb.append(previousCased ? Character.toLowerCase(c) : Character.toUpperCase(c));
            previousCased = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) return s.replace(old, replacement);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int n = 0; n < count; n++) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                if (at < s.length()) sb.append(s.charAt(at));
                from = at + 1;
            } else {
                from = at + old.length();
            }
        }
        if (from <= s.length()) sb.append(s, from, s.length());
        return sb.toString();
    }

    /** Python's {@code split}: by a literal separator, or on runs of whitespace when it is None. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && PythonStrings.isSpace(s.charAt(i))) i++;
                if (i == s.length()) break;
                if (maxSplit >= 0 && out.size() == maxSplit) {
                    out.add(PythonStrings.rstrip(s.substring(i)));
                    break;
                }
                int j = i;
                while (j < s.length() && !PythonStrings.isSpace(s.charAt(j))) j++;
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        while (maxSplit < 0 || out.size() < maxSplit) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) return s.length() + 1;
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    private static String join(String separator, Collection<?> items) {
        StringBuilder sb = new StringBuilder();
        Iterator<?> it = items.iterator();
        while (it.hasNext()) {
            sb.append(str(it.next()));
            if (it.hasNext()) sb.append(separator);
        }
        return sb.toString();
    }

    private static String str(Object o) {
        return o == null ? "None" : o.toString();
    }

    private static int toInt(Object o) {
        return o instanceof Number n ? n.intValue() : Integer.parseInt(str(o));
    }

    // Property access is left to Jinjava's own resolvers.

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

}
