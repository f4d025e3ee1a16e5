package dev.sparkllm.udf.sql;

import dev.sparkllm.udf.GenerationColumns;
import dev.sparkllm.udf.GenerationSettings;
import dev.sparkllm.udf.LlmGeneration;
import dev.sparkllm.udf.ModelCache;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.ExprId;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.Function1;
import scala.runtime.AbstractPartialFunction;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static scala.jdk.javaapi.CollectionConverters.asJava;
import static scala.jdk.javaapi.CollectionConverters.asScala;

/**
 * Plans {@code llm_generate}: a {@code Project} that calls it becomes
 * <pre>
 *   Project(original list, llm_generate(...) replaced by the result column)
 *     └ the Dataset path's per-partition generation (mapPartitions over the shared engine)
 *         └ Project(child columns, prompt AS __llm_prompt_i, options AS __llm_options_i)
 *             └ child
 * </pre>
 * so SQL feeds the engine in windows of rows per task exactly like {@link LlmGeneration#generate}. Runs after
 * resolution (post-hoc), so the rest of the optimizer sees an ordinary plan. Attributes of the child are
 * re-pointed by position to the new plan's output, and kept under their old ids so plans above still resolve.
 */
public final class LlmGenerateRewrite extends Rule<LogicalPlan> {

    private final SparkSession session;

    public LlmGenerateRewrite(SparkSession session) {
        this.session = session;
    }

    @Override
    public LogicalPlan apply(LogicalPlan plan) {
        LogicalPlan out = rewriteProjects(plan);
        rejectLeftovers(out);
        return out;
    }

    /** llm_generate anywhere but a SELECT list cannot be batched: say so at analysis, not mid-job. */
    private static void rejectLeftovers(LogicalPlan plan) {
        for (Expression e : asJava(plan.expressions())) {
            List<LlmGenerateExpression> found = new ArrayList<>();
            collect(e, found);
            if (!found.isEmpty()) throw new IllegalArgumentException(LlmGenerateExpression.notPlanned());
        }
        for (LogicalPlan c : asJava(plan.children())) rejectLeftovers(c);
    }

    private LogicalPlan rewriteProjects(LogicalPlan plan) {
        return plan.transformUp(new AbstractPartialFunction<LogicalPlan, LogicalPlan>() {
            @Override
            public boolean isDefinedAt(LogicalPlan p) {
                return p instanceof Project project && !calls(project).isEmpty();
            }

            @Override
            public <A1 extends LogicalPlan, B1> B1 applyOrElse(A1 p, Function1<A1, B1> fallback) {
                if (!isDefinedAt(p)) return fallback.apply(p);
                @SuppressWarnings("unchecked") B1 out = (B1) rewrite((Project) p);
                return out;
            }
        });
    }

    /** The distinct llm_generate calls in a Project's list, in order. */
    private static List<LlmGenerateExpression> calls(Project p) {
        List<LlmGenerateExpression> found = new ArrayList<>();
        for (NamedExpression e : asJava(p.projectList())) collect((Expression) e, found);
        return found;
    }

    private static void collect(Expression e, List<LlmGenerateExpression> found) {
        if (e instanceof LlmGenerateExpression g) {
            if (!found.contains(g)) found.add(g);
            return;
        }
        for (Expression c : asJava(e.children())) collect(c, found);
    }

    private LogicalPlan rewrite(Project project) {
        GenerationSettings settings = SessionGenerationSettings.from(session);
        checkOnDriver(settings);
        LogicalPlan child = project.child();
        List<Attribute> childOut = asJava(child.output());
        List<LlmGenerateExpression> calls = calls(project);

        List<NamedExpression> preList = new ArrayList<>(childOut);
        for (int i = 0; i < calls.size(); i++) {
            preList.add(alias(calls.get(i).prompt(), "__llm_prompt_" + i, NamedExpression.newExprId()));
            if (calls.get(i).options() != null) {
                preList.add(alias(calls.get(i).options(), "__llm_options_" + i, NamedExpression.newExprId()));
            }
        }
        Dataset<Row> ds = org.apache.spark.sql.classic.Dataset.ofRows(
                (org.apache.spark.sql.classic.SparkSession) session, new Project(asScala(preList).toList(), child));
        for (int i = 0; i < calls.size(); i++) {
            String options = calls.get(i).options() == null ? null : "__llm_options_" + i;
            ds = LlmGeneration.generate(ds, new GenerationColumns("__llm_prompt_" + i, null, null, Map.of(), options),
                    settings, "__llm_result_" + i);
        }
        LogicalPlan generated = ds.queryExecution().analyzed();
        List<Attribute> newOut = asJava(generated.output());

        Map<ExprId, Attribute> moved = new HashMap<>();
        for (int j = 0; j < childOut.size(); j++) moved.put(childOut.get(j).exprId(), newOut.get(j));
        Map<LlmGenerateExpression, Attribute> results = new IdentityHashMap<>();
        for (int i = 0; i < calls.size(); i++) {
            String name = "__llm_result_" + i;
            for (Attribute a : newOut) if (a.name().equals(name)) results.put(calls.get(i), a);
        }
        List<NamedExpression> list = new ArrayList<>();
        for (NamedExpression e : asJava(project.projectList())) {
            Expression replaced = replace((Expression) e, moved, results);
            // Keep every output column's id, so operators above this Project still find their inputs.
            list.add(replaced instanceof NamedExpression n && n.exprId().equals(e.exprId()) ? n
                    : alias(replaced instanceof Alias a ? a.child() : replaced, e.name(), e.exprId()));
        }
        return new Project(asScala(list).toList(), generated);
    }

    private static Expression replace(Expression e, Map<ExprId, Attribute> moved, Map<LlmGenerateExpression, Attribute> results) {
        // Top-down: a call is replaced before its arguments are re-pointed, so it still equals the collected one.
        return e.transformDown(new AbstractPartialFunction<Expression, Expression>() {
            @Override
            public boolean isDefinedAt(Expression x) {
                return x instanceof LlmGenerateExpression || (x instanceof Attribute a && moved.containsKey(a.exprId()));
            }

            @Override
            public <A1 extends Expression, B1> B1 applyOrElse(A1 x, Function1<A1, B1> fallback) {
                Expression out;
                if (x instanceof LlmGenerateExpression g) {
                    out = results.entrySet().stream().filter(en -> en.getKey().equals(g)).findFirst()
                            .map(Map.Entry::getValue).orElseThrow();
                } else if (x instanceof Attribute a && moved.containsKey(a.exprId())) {
                    out = moved.get(a.exprId());
                } else {
                    return fallback.apply(x);
                }
                @SuppressWarnings("unchecked") B1 b = (B1) out;
                return b;
            }
        });
    }

    private static Alias alias(Expression child, String name, ExprId id) {
        return new Alias(child, name, id, asScala(List.<String>of()).toList(), scala.Option.empty(),
                asScala(List.<String>of()).toList());
    }

    /** The same driver-side check as the batch job, for local model directories. */
    private static void checkOnDriver(GenerationSettings settings) {
        if (!ModelCache.isLocal(settings.modelUri())) return; // executors copy remote models and report problems
        Path dir = Paths.get(settings.modelUri().replaceFirst("^file:", ""));
        try {
            settings.modelFingerprint(settings.binding().checkOnDriver(dir, settings));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model " + settings.modelUri(), e);
        }
    }
}
