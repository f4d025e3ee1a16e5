package dev.sparkllm.engine.cpu;

import dev.sparkllm.engine.model.Linear;

/** A dense float linear layer for tests: {@code weight} is row-major {@code [out, in]}. */
record FloatLinear(int inFeatures, int outFeatures, float[] weight) implements Linear {

    FloatLinear {
        if (weight.length != inFeatures * outFeatures) {
            throw new IllegalArgumentException("weight has " + weight.length + " floats, expected " + outFeatures + "x" + inFeatures);
        }
    }

    @Override
    public void forward(float[] x, int rows, float[] y, int outStart, int outEnd) {
        for (int r = 0; r < rows; r++) {
            for (int o = outStart; o < outEnd; o++) {
                float sum = 0f;
                for (int i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i] * weight[o * inFeatures + i];
                y[r * outFeatures + o] = sum;
            }
        }
    }

    @Override
    public float[] dequantize() {
        return weight.clone();
    }
}
