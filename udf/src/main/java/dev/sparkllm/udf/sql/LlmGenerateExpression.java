package dev.sparkllm.udf.sql;

import dev.sparkllm.udf.GenerationOutput;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.types.DataType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * {@code llm_generate(prompt [, options])}: a placeholder the analyzer resolves and {@link LlmGenerateRewrite}
 * then replaces by a batched per-partition operator. It is never evaluated row by row: a scalar function that
 * blocked per row would run the engine at batch size 1.
 */
public final class LlmGenerateExpression extends Expression {

    private final Seq<Expression> args;

    public LlmGenerateExpression(Seq<Expression> args) {
        if (args.size() < 1 || args.size() > 2) {
            throw new IllegalArgumentException("llm_generate takes (prompt) or (prompt, options map), got "
                    + args.size() + " arguments");
        }
        this.args = args;
    }

    Expression prompt() {
        return args.apply(0);
    }

    /** The options map argument, or null. */
    Expression options() {
        return args.size() > 1 ? args.apply(1) : null;
    }

    @Override
    public boolean nullable() {
        return false;
    }

    @Override
    public DataType dataType() {
        return GenerationOutput.schema(false, false);
    }

    @Override
    public Object eval(InternalRow input) {
        throw new UnsupportedOperationException(notPlanned());
    }

    @Override
    public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
        throw new UnsupportedOperationException(notPlanned());
    }

    static String notPlanned() {
        return "llm_generate was not rewritten into a batched operator: use it directly in a SELECT list (not in "
                + "WHERE, JOIN or aggregate clauses), with spark.sql.extensions=" + SparkLlmExtensions.class.getName();
    }

    @Override
    public Seq<Expression> children() {
        return args;
    }

    @Override
    public Expression withNewChildrenInternal(IndexedSeq<Expression> newChildren) {
        return new LlmGenerateExpression(newChildren.toSeq());
    }

    @Override
    public String prettyName() {
        return "llm_generate";
    }

    @Override
    public int productArity() {
        return 1;
    }

    @Override
    public Object productElement(int n) {
        if (n != 0) throw new IndexOutOfBoundsException(n);
        return args;
    }

    @Override
    public boolean canEqual(Object that) {
        return that instanceof LlmGenerateExpression;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LlmGenerateExpression e && e.args.equals(args);
    }

    @Override
    public int hashCode() {
        return 31 * args.hashCode() + 7;
    }
}
