package dev.sparkllm.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sparkllm.engine.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loading a model directory: the bundled and shared kjv-tiny models, the BOS/EOS flags of
 * {@code tokenizer_config.json} (which, for Llama tokenizers, replace the post-processor of tokenizer.json as
 * transformers' LlamaTokenizerFast does), and the error for a directory without tokenizer files.
 */
class TokenizerLoaderTest {

    private static final String TEXT = "In the beginning God created the heaven and the earth.";

    @Test
    void bundledModelAddsBosOnce() {
        Tokenizer tokenizer = TokenizerLoader.load(TestModels.bundledModel());
        assertEquals(1024, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bosId());
        assertEquals(2, tokenizer.eosId());
        assertTrue(tokenizer.addsBos());
        int[] ids = tokenizer.encode(TEXT, true);
        assertEquals(1, ids[0]);
        assertEquals(1, IntStream.of(ids).filter(id -> id == 1).count(), "BOS exactly once");
        assertArrayEquals(tokenizer.encode(TEXT, false), java.util.Arrays.copyOfRange(ids, 1, ids.length));
        assertTrue(tokenizer.isSpecial(1) && tokenizer.isSpecial(2) && !tokenizer.isSpecial(100));
        assertEquals("<0x0A>", tokenizer.tokenString(3 + '\n'));
        assertEquals(3 + '\n', tokenizer.tokenId("<0x0A>"));
        assertEquals(-1, tokenizer.tokenId("no such token"));
    }

    @Test
    void everySharedVariantLoadsTheSameTokenizer() {
        Tokenizer bundled = TokenizerLoader.load(TestModels.bundledModel());
        for (String variant : TestModels.KJV_TINY_VARIANTS) {
            Tokenizer t = TokenizerLoader.load(TestModels.kjvTiny(variant));
            assertArrayEquals(bundled.encode(TEXT, true), t.encode(TEXT, true), variant);
        }
    }

    @Test
    void configFlagsDecideBosAndEos(@TempDir Path dir) throws Exception {
        Tokenizer reference = TokenizerLoader.load(TestModels.bundledModel());
        int[] plain = reference.encode(TEXT, false);
        for (boolean bos : new boolean[]{false, true}) {
            for (boolean eos : new boolean[]{false, true}) {
                Path model = copyWithConfig(dir.resolve(bos + "-" + eos), cfg -> cfg.put("add_bos_token", bos).put("add_eos_token", eos));
                Tokenizer t = TokenizerLoader.load(model);
                int[] expected = IntStream.concat(IntStream.concat(bos ? IntStream.of(1) : IntStream.empty(), IntStream.of(plain)),
                        eos ? IntStream.of(2) : IntStream.empty()).toArray();
                assertArrayEquals(expected, t.encode(TEXT, true), "add_bos_token=" + bos + " add_eos_token=" + eos);
                assertEquals(bos, t.addsBos());
            }
        }
    }

    @Test
    void withoutLlamaTokenizerClassTheTokenizerJsonPostProcessorApplies(@TempDir Path dir) throws Exception {
        // tokenizer.json's TemplateProcessing adds <s>; a non-Llama class does not rebuild it from the flags.
        Path model = copyWithConfig(dir, cfg -> cfg.put("tokenizer_class", "PreTrainedTokenizerFast").put("add_bos_token", false));
        assertEquals(1, TokenizerLoader.load(model).encode(TEXT, true)[0]);
    }

    @Test
    void withoutTokenizerClassTheModelTypeDecides(@TempDir Path dir) throws Exception {
        // No tokenizer_class: transformers picks the model type's default class (LlamaTokenizerFast for llama).
        Path llama = copyWithConfig(dir.resolve("llama"), cfg -> cfg.remove("tokenizer_class"));
        Files.writeString(llama.resolve("tokenizer_config.json"), "{\"add_bos_token\": false}");
        Files.writeString(llama.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertEquals(false, TokenizerLoader.load(llama).addsBos(), "llama model type: the flag decides");
        Files.writeString(llama.resolve("config.json"), "{\"model_type\": \"gpt2\"}");
        assertEquals(true, TokenizerLoader.load(llama).addsBos(), "other model types: tokenizer.json decides");
    }

    @Test
    void missingTokenizerFilesNameTheDirectory(@TempDir Path dir) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenizerLoader.load(dir));
        assertEquals("tokenizer.json not found in " + dir + "; expected a Hugging Face model directory", e.getMessage());
    }

    private static Path copyWithConfig(Path target, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        Files.createDirectories(target);
        Path source = TestModels.bundledModel();
        Files.copy(source.resolve("tokenizer.json"), target.resolve("tokenizer.json"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(source.resolve("tokenizer_config.json").toFile());
        edit.accept(config);
        json.writeValue(target.resolve("tokenizer_config.json").toFile(), config);
        return target;
    }
}
