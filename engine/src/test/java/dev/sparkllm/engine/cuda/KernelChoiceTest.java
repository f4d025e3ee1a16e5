package dev.sparkllm.engine.cuda;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel-choice JVM options ({@code -Dsparkllm.cuda.tiles=ksplit|plain} and the like): default, choice, refusal. */
class KernelChoiceTest {

    private static final String PROPERTY = "sparkllm.test.kernelChoice";

    @AfterEach
    void clear() {
        System.clearProperty(PROPERTY);
    }

    @Test
    void unsetTakesTheFirstValueAndSetTakesItsOwn() {
        assertEquals("ksplit", CudaBackend.choice(PROPERTY, "ksplit", "plain"));
        System.setProperty(PROPERTY, "plain");
        assertEquals("plain", CudaBackend.choice(PROPERTY, "ksplit", "plain"));
    }

    @Test
    void anotherValueIsRefusedNamingTheChoices() {
        System.setProperty(PROPERTY, "fast");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaBackend.choice(PROPERTY, "ksplit", "plain"));
        assertTrue(e.getMessage().contains("-D" + PROPERTY + "=fast"), e.getMessage());
        assertTrue(e.getMessage().contains("ksplit, plain (default ksplit)"), e.getMessage());
    }
}
