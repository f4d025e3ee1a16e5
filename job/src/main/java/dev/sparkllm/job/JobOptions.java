package dev.sparkllm.job;

import dev.sparkllm.engine.tokenizer.TokenizerMode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The job's command line. Unknown options and malformed values stop the job before Spark starts, with a
 * message naming the option. Sampling options use {@code bin/llm generate}'s names and are passed on as
 * "max_new_tokens"-style keys; their ranges are checked by the sampling layer on the driver.
 */
public final class JobOptions {

    /** Sampling options: command-line name to the key the sampling layer reads. */
    static final Map<String, String> SAMPLING = new LinkedHashMap<>();

    static {
        for (String s : List.of("max-new-tokens", "min-new-tokens", "temperature", "top-k", "top-p", "min-p",
                "repetition-penalty", "presence-penalty", "frequency-penalty", "stop", "stop-token-ids", "ignore-eos")) {
            SAMPLING.put(s, s.replace('-', '_'));
        }
    }

    static final Set<String> INPUT_FORMATS = Set.of("parquet", "json", "csv", "text");
    static final Set<String> OUTPUT_FORMATS = Set.of("parquet", "json");

    String model;
    String input;
    String output;
    String inputFormat;
    String outputFormat = "parquet";
    String promptColumn;
    String messagesColumn;
    String idColumn;
    List<String> keepColumns = new ArrayList<>();
    String template;
    String systemPrompt;
    String preset;
    boolean failTooLong;
    boolean allowSpecialTokens;
    Map<String, String> sampling = new TreeMap<>();
    Long seed;
    Map<String, String> rowParams = new LinkedHashMap<>();
    int logprobs = -1;
    boolean includeTokenIds;
    Integer partitions;
    Integer rowsPerPartition;
    Integer chunks;
    String device = "auto";
    Map<String, String> engineOptions = new TreeMap<>();
    String tokenizerMode;
    Integer window;
    boolean retryErrors;
    boolean dropExtraIds;
    boolean force;
    String master;
    int progressSeconds = 10;
    int show = 5;

    static final String USAGE = """
            usage: GenerateJob --model DIR --input PATH --output DIR [options]
              --model DIR                 model directory on any Hadoop filesystem (file:, hdfs:, s3a:)
              --input PATH                prompts: file or directory
              --output DIR                output table directory; rerunning resumes it
              --input-format F            parquet | json | csv | text (default: from the file extension)
              --output-format F           parquet | json (default parquet)
              --prompt-column C           prompt text column (default "prompt"; for text input the line)
              --messages-column C         array<struct<role, content>> column instead of a prompt column
              --id-column C               unique row id column, any string, integer or decimal column; the output
                                          keeps its name and type (default: an input column named id, else
                                          string ids "FILE:N" from the input file and row position)
              --keep-columns A,B          input columns copied to the output
              --template T                prompt template: raw, llama-2-chat, system-user-assistant, model, or a file
              --system-prompt S           system prompt
              --preset P                  generation preset (template, system prompt, sampling)
              --truncation drop_start|fail  prompts longer than the context (default drop_start)
              --allow-special-tokens      special-token text in prompts becomes special tokens
              --max-new-tokens N, --min-new-tokens N, --temperature X, --top-k N, --top-p X, --min-p X,
              --repetition-penalty X, --presence-penalty X, --frequency-penalty X, --stop S (repeatable),
              --stop-token-ids 1,2, --stop-token-id ID (repeatable), --ignore-eos
                                          sampling (row > command line > preset > model)
              --seed N                    job seed; each row's seed derives from it and the row id
              --row-param NAME=COLUMN     per-row sampling value from a column (repeatable)
              --logprobs N                log-probabilities of generated tokens and N alternatives
              --include-token-ids         generated token ids in the output
              --partitions N | --rows-per-partition N   how the rows are spread (default from rows and slots)
              --chunks N                  commit units (default from partitions and slots)
              --device auto|cpu|cuda|cuda:N   default auto: the task's GPU when Spark assigns one, else GPU 0 when one is visible, else cpu
              --engine-option K=V         engine setting, e.g. threads=8, max_batch=64, kv_cache_mb=512 (repeatable)
              --tokenizer-mode M          files (default): the model's tokenizer files as written (tokenizer.json as
                                          Hugging Face tokenizers applies it, tokenizer.model as SentencePiece);
                                          transformers5: transformers 5's reading of a Llama tokenizer_config.json
                                          (same as --engine-option tokenizer_mode=M)
              --window N                  requests each task keeps in flight (default: twice the engine's
                                          max_batch shared by the executor's concurrent tasks)
              --retry-errors              regenerate rows that failed in an earlier run
              --drop-extra-ids            delete output rows whose ids are no longer in the input (default: keep
                                          and report them)
              --force                     when --output holds an earlier sparkllm run made with another model,
                                          tokenizer, template, settings or input columns: delete that run's chunks,
                                          staged input, run record and summary (only what its run record lists)
                                          and start over. Files sparkllm did not write are never deleted: an
                                          --output holding any stops the job, with or without --force
              --master URL                Spark master (default: spark-submit's, else local[*])
              --progress-seconds N        progress line interval (default 10)
              --show N                    print the first N rows of the output table at the end (default 5, 0 = none)
            """;

    static JobOptions parse(String[] args) {
        JobOptions o = new JobOptions();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + USAGE);
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq > 0 && !name.startsWith("row-param") && !name.startsWith("engine-option")) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            switch (name) {
                case "include-token-ids" -> o.includeTokenIds = true;
                case "retry-errors" -> o.retryErrors = true;
                case "drop-extra-ids" -> o.dropExtraIds = true;
                case "force" -> o.force = true;
                case "allow-special-tokens" -> o.allowSpecialTokens = true;
                case "ignore-eos" -> o.sampling.put("ignore_eos", "true");
                case "help" -> throw new IllegalArgumentException(USAGE);
                default -> {
                    String v = inline != null ? inline : value(args, ++i, a);
                    o.set(name, v, a);
                }
            }
        }
        o.check();
        return o;
    }

    private void set(String name, String v, String flag) {
        switch (name) {
            case "model" -> model = v;
            case "input" -> input = v;
            case "output" -> output = v;
            case "input-format" -> inputFormat = oneOf(v.toLowerCase(Locale.ROOT), INPUT_FORMATS, flag);
            case "output-format" -> outputFormat = oneOf(v.toLowerCase(Locale.ROOT), OUTPUT_FORMATS, flag);
            case "prompt-column" -> promptColumn = v;
            case "messages-column" -> messagesColumn = v;
            case "id-column" -> idColumn = v;
            case "keep-columns" -> keepColumns = List.of(v.split("\\s*,\\s*"));
            case "template" -> template = v;
            case "system-prompt" -> systemPrompt = v;
            case "preset" -> preset = v;
            case "truncation" -> failTooLong = oneOf(v.toLowerCase(Locale.ROOT), Set.of("drop_start", "fail"), flag).equals("fail");
            case "seed" -> seed = parseLong(v, flag);
            case "row-param" -> {
                String[] kv = pair(v, flag);
                rowParams.put(kv[0].replace('-', '_'), kv[1]);
            }
            case "engine-option" -> {
                String[] kv = pair(v, flag);
                engineOptions.put(kv[0], kv[1]);
            }
            case "logprobs" -> logprobs = positive(v, flag, 0);
            case "partitions" -> partitions = positive(v, flag, 1);
            case "rows-per-partition" -> rowsPerPartition = positive(v, flag, 1);
            case "chunks" -> chunks = positive(v, flag, 1);
            case "device" -> device = v;
            case "tokenizer-mode" -> tokenizerMode = TokenizerMode.parse(v).wireName();
            case "window" -> window = positive(v, flag, 1);
            case "master" -> master = v;
            case "progress-seconds" -> progressSeconds = positive(v, flag, 1);
            case "show" -> show = positive(v, flag, 0);
            case "stop" -> sampling.merge("stop", v, (a, b) -> a + "\u0000" + b); // NUL-separated list
            case "stop-token-id" -> sampling.merge("stop_token_ids", String.valueOf(parseLong(v, flag)), (a, b) -> a + "," + b);
            case "stop-token-ids" -> sampling.merge("stop_token_ids", v, (a, b) -> a + "," + b);
            default -> {
                if (!SAMPLING.containsKey(name)) {
                    throw new IllegalArgumentException("unknown option " + flag + "; run with --help for the list");
                }
                sampling.put(SAMPLING.get(name), v);
            }
        }
    }

    private void check() {
        if (model == null) throw new IllegalArgumentException("--model is required\n" + USAGE);
        if (input == null) throw new IllegalArgumentException("--input is required\n" + USAGE);
        if (output == null) throw new IllegalArgumentException("--output is required\n" + USAGE);
        if (promptColumn != null && messagesColumn != null) {
            throw new IllegalArgumentException("give --prompt-column or --messages-column, not both");
        }
        if (partitions != null && rowsPerPartition != null) {
            throw new IllegalArgumentException("give --partitions or --rows-per-partition, not both");
        }
        if (messagesColumn == null && promptColumn == null) promptColumn = "prompt";
        if (tokenizerMode != null) {
            // The engine reads the mode from its options, as it does on a cluster from spark.sparkllm.engine.*.
            String given = engineOptions.get(TokenizerMode.OPTION);
            if (given != null && !TokenizerMode.parse(given).wireName().equals(tokenizerMode)) {
                throw new IllegalArgumentException("--tokenizer-mode " + tokenizerMode + " contradicts --engine-option "
                        + TokenizerMode.OPTION + "=" + given + "; give one of them");
            }
            engineOptions.put(TokenizerMode.OPTION, tokenizerMode);
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) throw new IllegalArgumentException(flag + " needs a value");
        return args[i];
    }

    private static String oneOf(String v, Set<String> allowed, String flag) {
        if (!allowed.contains(v)) throw new IllegalArgumentException(flag + " '" + v + "' is not one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
        return v;
    }

    private static String[] pair(String v, String flag) {
        int eq = v.indexOf('=');
        if (eq <= 0 || eq == v.length() - 1) throw new IllegalArgumentException(flag + " '" + v + "' must be NAME=VALUE");
        return new String[]{v.substring(0, eq).trim(), v.substring(eq + 1).trim()};
    }

    private static long parseLong(String v, String flag) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + v + "' is not an integer");
        }
    }

    private static int positive(String v, String flag, int min) {
        long n = parseLong(v, flag);
        if (n < min || n > Integer.MAX_VALUE) throw new IllegalArgumentException(flag + " must be at least " + min + ", got " + v);
        return (int) n;
    }
}
