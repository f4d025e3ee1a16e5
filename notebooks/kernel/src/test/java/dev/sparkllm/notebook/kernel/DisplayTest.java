package dev.sparkllm.notebook.kernel;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DisplayTest {

    @Test
    void chartBecomesAPngOfItsSizeThatDrawsTheSeries() throws Exception {
        XYChart chart = new XYChartBuilder().width(320).height(240).title("t").build();
        chart.addSeries("s", new double[] {0, 1, 2}, new double[] {0, 2, 1});
        byte[] png = Base64.getDecoder().decode(ChartDisplay.pngBase64(chart));
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(image, "decodes as an image");
        assertEquals(320, image.getWidth());
        assertEquals(240, image.getHeight());
        // Not a blank canvas: more than a handful of colours (background, axes, series, text).
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) for (int x = 0; x < image.getWidth(); x += 3) colours.add(image.getRGB(x, y));
        assertTrue(colours.size() > 5, "colours: " + colours.size());
    }

    @Test
    void tableEscapesHtmlAndKeepsTextOnOneLinePerRow() {
        DatasetDisplay.Table t = new DatasetDisplay.Table(List.of("id", "text"),
                List.of(List.of("1", "<b>&\"x\""), List.of("2", "two\nlines")), true);
        String html = t.html();
        assertTrue(html.contains("<td style=\"text-align:left\">&lt;b&gt;&amp;&quot;x&quot;</td>"), html);
        assertFalse(html.contains("<b>&"), html);
        assertTrue(html.contains("only the first"), html);
        String[] lines = t.text().split("\n");
        assertEquals(4, lines.length, t.text()); // header, two rows, the "more rows" note
        assertTrue(lines[2].contains("two\\nlines"), lines[2]);
        assertEquals(lines[0].indexOf('|'), lines[1].indexOf('|'), "columns are aligned");
    }
}
