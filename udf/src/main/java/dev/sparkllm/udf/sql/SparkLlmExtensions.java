package dev.sparkllm.udf.sql;

import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.expressions.ExpressionInfo;
import scala.Tuple3;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Session extensions ({@code spark.sql.extensions=dev.sparkllm.udf.sql.SparkLlmExtensions}) that add the SQL
 * function {@code llm_generate(prompt [, options map])} and the rule that plans it as a batched per-partition
 * operator. Works from SQL, spark-sql and PySpark alike. Settings come from the session conf:
 * {@code spark.sparkllm.model} (required), {@code spark.sparkllm.device}, {@code spark.sparkllm.template},
 * {@code spark.sparkllm.systemPrompt}, {@code spark.sparkllm.preset}, {@code spark.sparkllm.seed},
 * {@code spark.sparkllm.window}, {@code spark.sparkllm.engine.<option>} and {@code spark.sparkllm.sampling.<option>};
 * the options map overrides sampling per row, e.g. {@code map('max_new_tokens', '32', 'temperature', '0.7')}.
 */
public final class SparkLlmExtensions extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {

    public static final String FUNCTION = "llm_generate";

    @Override
    public BoxedUnit apply(SparkSessionExtensions ext) {
        ExpressionInfo info = new ExpressionInfo(LlmGenerateExpression.class.getName(), null, FUNCTION,
                "_FUNC_(prompt[, options]) - Generates a completion of prompt with the session's model "
                        + "(spark.sparkllm.model); options is a map of sampling settings such as max_new_tokens.",
                "");
        ext.injectFunction(new Tuple3<>(FunctionIdentifier.apply(FUNCTION), info,
                new AbstractFunction1<scala.collection.immutable.Seq<org.apache.spark.sql.catalyst.expressions.Expression>,
                        org.apache.spark.sql.catalyst.expressions.Expression>() {
                    @Override
                    public org.apache.spark.sql.catalyst.expressions.Expression apply(
                            scala.collection.immutable.Seq<org.apache.spark.sql.catalyst.expressions.Expression> args) {
                        return new LlmGenerateExpression(args);
                    }
                }));
        ext.injectPostHocResolutionRule(new AbstractFunction1<>() {
            @Override
            public LlmGenerateRewrite apply(org.apache.spark.sql.SparkSession session) {
                return new LlmGenerateRewrite(session);
            }
        });
        return BoxedUnit.UNIT;
    }
}
