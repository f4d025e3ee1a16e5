package dev.sparkllm.engine.prompt;

import org.junit.jupiter.api.Test;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StrftimeTest {

    @Test
    void matchesPythonsStrftime() {
        // Expected text from Python: datetime(2024, 7, 6, 9, 5, 3).strftime(...) (unknown directives kept as is).
        ZonedDateTime t = ZonedDateTime.of(2024, 7, 6, 9, 5, 3, 0, ZoneOffset.UTC);
        assertEquals("06 Jul 2024|Saturday Sat July|09:05:03|188 24 07|2024-07-06|%|%q",
                Strftime.format(t, "%d %b %Y|%A %a %B|%H:%M:%S|%j %y %m|%F|%%|%q"));
    }
}
