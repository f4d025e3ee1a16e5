package dev.sparkllm.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.sparkllm.engine.checkpoint.JsonFiles.has;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optDoubleObject;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optIdList;
import static dev.sparkllm.engine.checkpoint.JsonFiles.optInteger;

/** Reads {@code generation_config.json}; a directory without one gets {@link GenerationConfig#empty()}. */
final class GenerationConfigReader {

    private GenerationConfigReader() {
    }

    static GenerationConfig read(Path file) {
        if (!Files.exists(file)) {
            return GenerationConfig.empty();
        }
        JsonNode g = JsonFiles.readObject(file);
        Boolean doSample = has(g, "do_sample") ? JsonFiles.optBoolean(g, "do_sample", false, file) : null;
        return new GenerationConfig(
                doSample,
                optDoubleObject(g, "temperature", file),
                optInteger(g, "top_k", file),
                optDoubleObject(g, "top_p", file),
                optDoubleObject(g, "min_p", file),
                optDoubleObject(g, "repetition_penalty", file),
                optInteger(g, "max_new_tokens", file),
                optInteger(g, "max_length", file),
                optInteger(g, "bos_token_id", file),
                optIdList(g, "eos_token_id", file),
                optInteger(g, "pad_token_id", file));
    }
}
