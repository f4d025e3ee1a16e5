package dev.sparkllm.engine.sampling;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Typed reads of named sampling values for {@link SamplingSettings#fromMap}: strings as typed on a command line,
 * or the numbers, booleans and lists a JSON parser produces. Every error names the key and the value.
 */
final class SettingValues {

    static final Set<String> KNOWN = new TreeSet<>(List.of("do_sample", "temperature", "top_k", "top_p", "min_p",
            "repetition_penalty", "presence_penalty", "frequency_penalty", "max_new_tokens", "max_tokens",
            "min_new_tokens", "min_tokens", "stop", "stop_token_ids", "ignore_eos", "seed", "logprobs"));

    private final Map<String, ?> values;

    SettingValues(Map<String, ?> values) {
        for (String key : values.keySet()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown sampling setting \"" + key + "\"; known settings: " + String.join(", ", KNOWN));
            }
        }
        if (values.get("max_new_tokens") != null && values.get("max_tokens") != null) {
            throw new IllegalArgumentException("max_new_tokens and max_tokens are the same setting; give only one");
        }
        if (values.get("min_new_tokens") != null && values.get("min_tokens") != null) {
            throw new IllegalArgumentException("min_new_tokens and min_tokens are the same setting; give only one");
        }
        this.values = values;
    }

    Boolean bool(String key) {
        Object v = values.get(key);
        if (v == null || v instanceof Boolean) return (Boolean) v;
        String s = v.toString().trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw wrongType(key, v, "true or false");
    }

    Double decimal(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof Number n) return n.doubleValue();
        try {
            return Double.parseDouble(v.toString().trim());
        } catch (NumberFormatException e) {
            throw wrongType(key, v, "a number");
        }
    }

    Integer integer(String... keys) {
        for (String key : keys) {
            Long v = integer64(key);
            if (v == null) continue;
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw wrongType(key, v, "a 32-bit integer");
            return v.intValue();
        }
        return null;
    }

    Long integer64(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 0x1p53) {
            return n.longValue();
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            throw wrongType(key, v, "an integer");
        }
    }

    List<String> strings(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof String s) return List.of(s);
        if (v instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (Object item : list) {
                if (!(item instanceof String s)) throw wrongType(key, v, "a string or a list of strings");
                out.add(s);
            }
            return out;
        }
        throw wrongType(key, v, "a string or a list of strings");
    }

    int[] ids(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        List<?> items = v instanceof List<?> list ? list
                : v instanceof String s ? (s.isBlank() ? List.of() : List.of((Object[]) s.split(",")))
                : List.of(v);
        int[] out = new int[items.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = new SettingValues(Map.of("stop_token_ids", items.get(i))).integer("stop_token_ids");
            if (id == null) throw wrongType(key, v, "token ids");
            out[i] = id;
        }
        return out;
    }

    private static IllegalArgumentException wrongType(String key, Object value, String expected) {
        return new IllegalArgumentException(key + " must be " + expected + ", got \"" + value + "\"");
    }
}
