package dev.sparkllm.engine.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class GpuBenchmarkTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void kernelRowsGetThePeersTimesAtTheirOwnShapeAndBatch() throws Exception {
        JsonNode ours = json.readTree("""
                [{"shape":"o","k":8192,"n":8192,"batch":1,"ms":0.026},
                 {"shape":"o","k":8192,"n":8192,"batch":256,"ms":0.19},
                 {"shape":"down","k":28672,"n":8192,"batch":1,"ms":0.065}]""");
        JsonNode peers = json.readTree("""
                [{"shape":"o","k":8192,"n":8192,"batch":256,"fp16_ms":0.056,"int4_ms":1.16},
                 {"shape":"o","k":8192,"n":8192,"batch":1,"fp16_ms":0.050,"int4_ms":0.021},
                 {"shape":"down","k":8192,"n":8192,"batch":1,"fp16_ms":9.0}]""");
        GpuBenchmark.addPeerTimes(ours, peers);
        assertEquals(0.050, ours.get(0).get("fp16_ms").asDouble());
        assertEquals(0.021, ours.get(0).get("int4_ms").asDouble());
        assertEquals(0.056, ours.get(1).get("fp16_ms").asDouble());
        assertFalse(ours.get(2).has("fp16_ms"), "a peer row of another k is not this shape");
    }

    @Test
    void fewerLayersKeepEveryOtherDimensionOfTheShape() {
        var full = GpuBenchmark.shape("70b");
        var two = GpuBenchmark.withLayers(full, 2);
        assertEquals(2, two.numLayers());
        assertEquals(full.hiddenSize(), two.hiddenSize());
        assertEquals(full.intermediateSize(), two.intermediateSize());
        assertEquals(full.numKvHeads(), two.numKvHeads());
        assertEquals(full.vocabSize(), two.vocabSize());
        assertThrows(IllegalArgumentException.class, () -> GpuBenchmark.withLayers(full, 0));
        assertThrows(IllegalArgumentException.class, () -> GpuBenchmark.withLayers(full, 81));
    }
}
