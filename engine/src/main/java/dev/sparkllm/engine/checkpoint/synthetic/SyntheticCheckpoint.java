package dev.sparkllm.engine.checkpoint.synthetic;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes a synthetic GPTQ checkpoint: the model directory of one branch of TheBloke/Llama-2-70B-chat-GPTQ (or
 * its 7B/13B siblings) with random weights, in the exact file layout, streamed to disk at disk speed
 * ({@code bin/llm make-checkpoint}). The weights go to {@code NAME.safetensors.partial} first and are renamed when
 * complete, so a directory never holds a weights file that is cut short.
 */
public final class SyntheticCheckpoint {

    /** Told about progress after each chunk of the weights file is written. */
    public interface Progress {
        void written(long bytes, long totalBytes, long elapsedNanos);
    }

    /**
     * @param weights the safetensors file written
     * @param bytes   its size
     * @param nanos   time to write and flush it
     */
    public record Result(Path weights, long bytes, long nanos) {
        public double gbPerSecond() {
            return bytes / (double) nanos;
        }
    }

    private SyntheticCheckpoint() {
    }

    /** The weights file's layout: every tensor's name, dtype, shape and offsets, and the header. */
    public static SafetensorsLayout layout(CheckpointSpec spec) {
        return SafetensorsLayout.of(spec);
    }

    /**
     * Writes everything but the weights into {@code dir}: config.json, generation_config.json, quantize_config.json,
     * tokenizer.json, tokenizer_config.json, special_tokens_map.json and README.md ({@code command} is quoted in it).
     */
    public static void writeSmallFiles(CheckpointSpec spec, Path dir, String command) throws IOException {
        Files.createDirectories(dir);
        ModelFiles.writeJson(dir.resolve("config.json"), ModelFiles.config(spec));
        ModelFiles.writeJson(dir.resolve("generation_config.json"), ModelFiles.generationConfig(spec.shape()));
        ModelFiles.writeJson(dir.resolve("quantize_config.json"), ModelFiles.quantizeConfig(spec));
        ModelFiles.writeJson(dir.resolve("tokenizer.json"), SyntheticTokenizer.tokenizerJson(spec.shape().vocabSize()));
        ModelFiles.writeJson(dir.resolve("tokenizer_config.json"), SyntheticTokenizer.tokenizerConfig());
        ModelFiles.writeJson(dir.resolve("special_tokens_map.json"), SyntheticTokenizer.specialTokensMap());
        Files.writeString(dir.resolve("README.md"), ModelFiles.readme(spec, layout(spec), command));
    }

    /**
     * Writes the whole checkpoint into {@code dir}, replacing an earlier weights file of the same name (deleted
     * before writing, so the disk need hold only one), with {@code threads} threads making the data.
     *
     * @throws IOException when the disk lacks room (checked before writing) or a write fails
     */
    public static Result write(CheckpointSpec spec, Path dir, int threads, String command, Progress progress) throws IOException {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        SafetensorsLayout layout = layout(spec);
        writeSmallFiles(spec, dir, command);
        Path target = dir.resolve(spec.fileName());
        Path partial = dir.resolve(spec.fileName() + ".partial");
        Files.deleteIfExists(target);
        Files.deleteIfExists(partial);
        long free = Files.getFileStore(dir).getUsableSpace();
        if (free < layout.fileSize()) {
            throw new IOException(dir + ": the weights need " + ModelFiles.size(layout.fileSize()) + " but the disk has "
                    + ModelFiles.size(free) + " free");
        }
        boolean done = false;
        try {
            long nanos = SafetensorsStreamWriter.write(partial, layout, threads, progress::written);
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            done = true;
            return new Result(target, layout.fileSize(), nanos);
        } finally {
            if (!done) Files.deleteIfExists(partial);
        }
    }
}
