package dev.sparkllm.udf.testing;

import dev.sparkllm.engine.api.GenerationEngine;
import dev.sparkllm.engine.api.GenerationRequest;
import dev.sparkllm.engine.sampling.SamplingParams;
import dev.sparkllm.udf.GenerationBinding;
import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.RowInput;
import dev.sparkllm.udf.RowInputException;
import dev.sparkllm.udf.RowRequestFactory;
import dev.sparkllm.udf.RowSeeds;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The binding over {@link FakeEngine}: a model directory is any directory with a {@code config.json}; templates
 * "raw" and "plain"; messages roles system/user/assistant; row options max_new_tokens (1..256), temperature
 * (0..2), seed. Engine options: max_batch, context, step_micros, fail_after_steps.
 */
public final class FakeBinding implements GenerationBinding {

    static final Set<String> TEMPLATES = Set.of("raw", "plain");
    static final Set<String> SAMPLING = Set.of("max_new_tokens", "temperature", "seed", "min_new_tokens");

    @Override
    public GenerationEngine openEngine(Path localModelDir, String device, Map<String, String> options) throws IOException {
        if (!Files.isRegularFile(localModelDir.resolve("config.json"))) throw new IOException("no config.json in " + localModelDir);
        return new FakeEngine(Integer.parseInt(options.getOrDefault("max_batch", "16")),
                Integer.parseInt(options.getOrDefault("context", "64")),
                Long.parseLong(options.getOrDefault("step_micros", "0")),
                Integer.parseInt(options.getOrDefault("fail_after_steps", "0")));
    }

    @Override
    public RowRequestFactory requestFactory(GenerationEngine engine, Path localModelDir, GenerationSettings settings) {
        return row -> prepare(engine, settings, row);
    }

    @Override
    public String checkOnDriver(Path localModelDir, GenerationSettings settings) throws IOException {
        if (!Files.isRegularFile(localModelDir.resolve("config.json"))) {
            throw new IllegalArgumentException("model directory " + localModelDir + " has no config.json");
        }
        if (settings.template() != null && !TEMPLATES.contains(settings.template())) {
            throw new IllegalArgumentException("unknown template '" + settings.template() + "'; known: " + TEMPLATES);
        }
        for (String k : settings.sampling().keySet()) {
            if (!SAMPLING.contains(k)) throw new IllegalArgumentException("unknown sampling option '" + k + "'");
        }
        try {
            Map<String, Object> values = new HashMap<>(settings.sampling());
            params(settings, values, "driver");
        } catch (RowInputException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return "fake:" + Integer.toHexString(Arrays.hashCode(Files.readAllBytes(localModelDir.resolve("config.json"))));
    }

    private static RowRequestFactory.PreparedRequest prepare(GenerationEngine engine, GenerationSettings s, RowInput row)
            throws RowInputException {
        String text;
        if (row.prompt() != null) {
            text = (s.systemPrompt() == null ? "" : s.systemPrompt() + "\n") + row.prompt();
        } else {
            StringBuilder sb = new StringBuilder();
            for (RowInput.ChatTurn t : row.messages()) {
                if (!List.of("system", "user", "assistant").contains(t.role())) {
                    throw new RowInputException("unknown role '" + t.role() + "'; expected system, user or assistant");
                }
                sb.append(t.role()).append(": ").append(t.content()).append('\n');
            }
            text = sb.toString();
        }
        Map<String, Object> values = new HashMap<>(s.sampling());
        values.putAll(row.rowParams());
        SamplingParams p = params(s, values, row.id());
        int[] ids = engine.tokenizer().encode(text, true);
        boolean truncated = false;
        int room = engine.contextLength() - p.maxNewTokens();
        if (ids.length > room) {
            if (s.failTooLongPrompts()) {
                throw new RowInputException("prompt has " + ids.length + " tokens; at most " + room + " fit");
            }
            int[] cut = new int[Math.max(room, 2)];
            cut[0] = ids[0];
            System.arraycopy(ids, ids.length - (cut.length - 1), cut, 1, cut.length - 1);
            ids = cut;
            truncated = true;
        }
        Map<String, Object> resolved = new java.util.LinkedHashMap<>();
        resolved.put("max_new_tokens", p.maxNewTokens());
        resolved.put("temperature", p.temperature());
        resolved.put("seed", p.seed());
        return new RowRequestFactory.PreparedRequest(new GenerationRequest(row.id(), ids, p), truncated, resolved);
    }

    private static SamplingParams params(GenerationSettings s, Map<String, Object> values, String id) throws RowInputException {
        int max = intValue(values.getOrDefault("max_new_tokens", 8), "max_new_tokens");
        if (max < 1 || max > 256) throw new RowInputException("max_new_tokens " + max + " is out of range 1..256");
        double temp = Double.parseDouble(String.valueOf(values.getOrDefault("temperature", 0)));
        if (temp < 0 || temp > 2) throw new RowInputException("temperature " + temp + " is out of range 0..2");
        Long seed = values.containsKey("seed") ? Long.valueOf(intValue(values.get("seed"), "seed"))
                : s.jobSeed() == null ? null : RowSeeds.derive(s.jobSeed(), id);
        return new SamplingParams(temp, 0, 1, 0, 1, 0, 0, max, 0, List.of(), new int[0], false, seed, s.logprobs());
    }

    private static int intValue(Object v, String name) throws RowInputException {
        try {
            return v instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            throw new RowInputException(name + " '" + v + "' is not an integer");
        }
    }
}
