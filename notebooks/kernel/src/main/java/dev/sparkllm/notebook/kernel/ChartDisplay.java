package dev.sparkllm.notebook.kernel;

import org.dflib.jjava.jupyter.kernel.display.Renderer;
import org.dflib.jjava.jupyter.kernel.display.mime.MIMEType;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Base64;

/** Shows XChart charts inline as image/png, so a cell ending in a chart (or {@code display(chart)}) plots. */
final class ChartDisplay {

    private ChartDisplay() {
    }

    static void register(Renderer renderer) {
        renderer.createRegistration(Chart.class)
                .preferring(MIMEType.IMAGE_PNG)
                .supporting(MIMEType.IMAGE_PNG)
                .register((chart, ctx) -> ctx.renderIfRequested(MIMEType.IMAGE_PNG, () -> pngBase64(chart)));
    }

    /** Jupyter carries binary outputs base64-encoded in the message's JSON. */
    static String pngBase64(Chart<?, ?> chart) {
        try {
            return Base64.getEncoder().encodeToString(BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode the chart as PNG", e);
        }
    }
}
