using System.CommandLine;
using System.Text.Json.Nodes;
using Json.Schema;
using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;
using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>
/// Every command with a result takes <c>--json</c>, and what it writes validates against its
/// JSON Schema in docs/schemas/ (draft 2020-12), checked on real outputs of real runs.
/// </summary>
public sealed class OutputSchemaTests : IDisposable
{
    private const string Sweep = """
        name: tiny
        scenario: swap-overcommit
        set:
          duration: 5ms
        protocols: [sync, ve]
        seeds: 1
        axes:
          - name: latency
            key: host.latency
            unit: us
            values: [10, 100]
        """;

    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    /// <summary>Schema name, then the command line that writes a document to standard output.</summary>
    private static readonly (string Schema, string[] Args)[] Cases =
    [
        ("run", ["run", "--builtin", "swap-overcommit", "--protocol", "kvm-pf-int", "--duration", "20ms", "--exits", "--json"]),
        ("run", ["run", "--builtin", "dax-truncate", "--protocol", "sync", "--duration", "20ms", "--json"]),
        ("compare", ["compare", "--builtin", "swap-overcommit", "--duration", "10ms", "--json"]),
        ("compare", ["compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "5ms", "--seeds", "3", "--json"]),
        // No fault completes in a microsecond: the latency statistics are null.
        ("run", ["run", "--builtin", "postcopy", "--protocol", "sync", "--duration", "1us", "--json"]),
        ("compare", ["compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "1us", "--seeds", "2", "--json"]),
        ("validate", ["validate", "--builtin", "postcopy", "--json"]),
        ("validate", ["validate", Path.Combine(Root, "docs", "examples", "sweep-example.yaml"), "--json"]),
        ("validate", ["validate", Path.Combine(Root, "docs", "examples", "two-faults.yaml"), "--json"]),
        ("scenarios-list", ["scenarios", "list", "--json"]),
        ("scenarios-show", ["scenarios", "show", "postcopy", "--json"]),
        ("bench", ["bench", "--duration", "20ms", "--json"]),
        ("bench-checker", ["bench", "--checker", "--max-states", "20000", "--json"]),
        ("bench-checker", ["bench", "--checker", "--workers", "1", "--max-states", "5000", "--tree-census", "--json"]),
        ("check", ["check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--json"]),
        ("check", ["check", "--builtin", "nmi-host-fault", "--protocol", "kvm-pf-int", "--json"]),
        ("check", ["check", Path.Combine(Root, "docs", "examples", "symtasks.yaml"), "--protocol", "kvm-pf", "--symmetry", "--json"]),
        ("check", ["check", "--builtin", "wake-race", "--protocol", "kvm-pf-int", "--property", "no-deadlock", "--symmetry", "--json"]),
        ("check-swarm", ["check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--max-states", "2000", "--json"]),
        ("check-swarm", ["check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--max-states", "2000", "--shard", "1/2", "--json", "s1.json"]),
        ("check-swarm", ["check", "--builtin", "truncate", "--protocol", "kvm-pf", "--swarm", "--members", "2", "--max-states", "2000", "--shard", "2/2", "--json", "s2.json"]),
        ("check-swarm", ["check", "--swarm-merge", "s1.json", "s2.json", "--json"]),
        ("check-swarm", ["check", "--swarm-merge", "s1.json", "--allow-partial", "--json"]),
        // Stopped before most members' turn: swarm.members_not_started counts them.
        ("check-swarm", ["check", "--builtin", "bench", "--protocol", "kvm-pf-int", "--swarm", "--members", "1000", "--max-states", "100000", "--time-limit", "200ms", "--json"]),
        ("check-matrix", ["check", "--matrix", "--json"]),
        ("models-list", ["models", "list", "--json"]),
        ("models-show", ["models", "show", "nmi-host-fault", "--json"]),
        ("replay", ["replay", "cex.json", "--json"]),
        ("explain-rules", ["explain", "rules", "--json"]),
        ("explain-double-fault", ["explain", "double-fault", "PF", "PF", "--json"]),
        ("explain-protocol", ["explain", "protocol", "ve", "--json"]),
        ("explain-costs", ["explain", "costs", "--json"]),
        ("explain-backings", ["explain", "backings", "--json"]),
        ("explain-properties", ["explain", "properties", "--json"]),
        ("explain-keys", ["explain", "keys", "--json"]),
        ("explain-bugs", ["explain", "bugs", "--json"]),
        ("sweep-run", ["sweep", "run", "tiny.yaml", "--db", "a.duckdb", "--shard", "1/2", "--json"]),
        ("sweep-run", ["sweep", "run", "tiny.yaml", "--db", "b.duckdb", "--shard", "2/2", "--json"]),
        ("sweep-merge", ["sweep", "merge", "m.duckdb", "a.duckdb", "b.duckdb", "--json"]),
        ("sweeps-list", ["sweeps", "list", "--json"]),
        ("sweeps-show", ["sweeps", "show", "latency", "--json"]),
        ("results-query", ["results", "query", "m.duckdb", "select protocol, latency, work_done from results order by run_key", "--json"]),
        ("results-query", ["results", "query", "m.duckdb", "select count(*) as n from tasks", "--format", "json"]),
        ("results-export", ["results", "export", "m.duckdb", "--format", "csv", "--out", "r.csv", "--json"]),
        ("plot", ["plot", "m.duckdb", "--x", "latency", "--y", "work_done", "--out", "p.png", "--json"]),
        ("report", ["report", "m.duckdb", "--by", "protocol", "--where", "latency = 100", "--out", "m.html", "--json"]),
        ("report", ["report", "c.json", "--out", "c.html", "--json"]),
        ("report", ["report", "r.json", "--out", "r.html", "--json"]),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-schemas-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void Every_command_output_validates_against_its_schema()
    {
        File.WriteAllText(Path.Combine(_dir, "tiny.yaml"), Sweep);
        Assert.Equal(1, Run("check", "--builtin", "nmi-host-fault", "--protocol", "ve", "--trace", "cex.json").Code);
        var failures = new List<string>();
        Validate("counterexample", "check --trace cex.json", File.ReadAllText(Path.Combine(_dir, "cex.json")), failures);
        Assert.Equal(0, Run("compare", "--builtin", "swap-overcommit", "--protocols", "sync,ve", "--duration", "5ms", "--json", "c.json").Code);
        Assert.Equal(0, Run("run", "--builtin", "swap-overcommit", "--protocol", "kvm-pf-int", "--duration", "5ms", "--exits", "--json", "r.json").Code);
        foreach (var (schema, args) in Cases)
        {
            var (code, stdout, stderr) = Run(args);
            // A limit (exit 3) still writes a whole document, marked "complete": false.
            if (code is not (ExitCodes.Done or ExitCodes.Found or ExitCodes.Limit))
            {
                failures.Add($"vexlab {string.Join(' ', args)}: exit {code}: {stderr}");
                continue;
            }

            // A command that wrote its document to a file (--json FILE) is checked in that file.
            var written = args.SkipWhile(a => a != "--json").Skip(1).FirstOrDefault(a => a.EndsWith(".json", StringComparison.Ordinal));
            Validate(schema, string.Join(' ', args), written is null ? stdout : File.ReadAllText(Path.Combine(_dir, written)), failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>A stopped compare's document (not_run holding the entries never started) validates too.</summary>
    [Fact]
    public void A_stopped_compare_validates_against_its_schema()
    {
        var (code, stdout, stderr) = Run("compare", "--builtin", "postcopy", "--protocols", "sync,ve", "--duration", "9223372036854775807ns", "--time-limit", "300ms", "--json");
        Assert.True(code == ExitCodes.Limit, stderr);
        Assert.Equal("ve", (string?)JsonNode.Parse(stdout)!["not_run"]![0]);
        var failures = new List<string>();
        Validate("compare", "compare --time-limit", stdout, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>A matrix whose cells a limit stopped (each cell's stop_reason, the grid's null) validates too.</summary>
    [Fact]
    public void A_matrix_stopped_at_a_limit_validates_against_its_schema()
    {
        var (code, stdout, stderr) = Run("check", "--matrix", "--protocols", "kvm-pf", "--max-states", "1000", "--json");

        // Cells found violations before the limit stopped others: exit 1, as a single check's found before its limit.
        Assert.True(code == ExitCodes.Found, stderr);
        Assert.Equal("max-states", (string?)JsonNode.Parse(stdout)!["matrix"]!.AsArray().First(c => !(bool)c!["complete"]!)!["stop_reason"]);
        var failures = new List<string>();
        Validate("check-matrix", "check --matrix --max-states", stdout, failures);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void A_document_missing_a_required_field_fails_its_schema()
    {
        var (_, stdout, _) = Run("sweeps", "list", "--json");
        var doc = JsonNode.Parse(stdout)!.AsObject();
        Assert.True(Schema("sweeps-list").Evaluate(doc, Options()).IsValid);
        doc["sweeps"]![0]!.AsObject().Remove("runs");
        Assert.False(Schema("sweeps-list").Evaluate(doc, Options()).IsValid);
    }

    [Fact]
    public void A_field_the_schema_does_not_name_fails_it()
    {
        var (_, stdout, _) = Run("run", "--builtin", "swap-overcommit", "--protocol", "kvm-pf-int", "--duration", "5ms", "--json");
        var doc = JsonNode.Parse(stdout)!.AsObject();
        Assert.True(Schema("run").Evaluate(doc, Options()).IsValid);
        Assert.NotNull(doc["fault_latency_ns"]!["cdf"]);

        var top = doc.DeepClone().AsObject();
        top["made_up"] = 1;
        Assert.False(Schema("run").Evaluate(top, Options()).IsValid);
        var nested = doc.DeepClone().AsObject();
        nested["fault_latency_ns"]!.AsObject()["p42"] = 1;
        Assert.False(Schema("run").Evaluate(nested, Options()).IsValid);
        var inTask = doc.DeepClone().AsObject();
        inTask["guest"]!["tasks"]![0]!.AsObject()["made_up"] = 1;
        Assert.False(Schema("run").Evaluate(inTask, Options()).IsValid);
    }

    [Fact]
    public void Every_object_in_every_schema_names_all_its_fields()
    {
        var open = new List<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs", "schemas"), "*.schema.json"))
        {
            Walk(JsonNode.Parse(File.ReadAllText(file)), Path.GetFileName(file));
        }

        Assert.True(open.Count == 0, "objects that let an undocumented field through (add additionalProperties or unevaluatedProperties):\n" + string.Join("\n", open));

        void Walk(JsonNode? node, string path)
        {
            if (node is JsonObject obj)
            {
                if (obj.ContainsKey("properties") && !obj.ContainsKey("additionalProperties") && !obj.ContainsKey("unevaluatedProperties"))
                {
                    open.Add(path);
                }

                foreach (var (key, value) in obj)
                {
                    if (key is "properties" or "$defs" && value is JsonObject map)
                    {
                        // A map from field names to schemas, not a schema: a field may be called "properties".
                        foreach (var (name, schema) in map)
                        {
                            Walk(schema, path + "/" + key + "/" + name);
                        }
                    }
                    else
                    {
                        Walk(value, path + "/" + key);
                    }
                }
            }
            else if (node is JsonArray array)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], path + "/" + i);
                }
            }
        }
    }

    [Fact]
    public void Every_schema_file_is_checked_and_is_draft_2020_12()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "docs", "schemas"), "*.schema.json")
            .Select(f => Path.GetFileName(f)[..^".schema.json".Length]).Order(StringComparer.Ordinal).ToList();
        var used = Cases.Select(c => c.Schema).Append("counterexample").Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, used);
        foreach (var file in files)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "docs", "schemas", file + ".schema.json")))!;
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", (string?)json["$schema"]);
        }
    }

    // docs/output.md says every command's JSON has a schema the tests check; explain backings had
    // neither, unseen, because this list is written by hand.
    [Fact]
    public void Every_command_with_a_result_is_validated_against_a_schema()
    {
        var root = VexlabApp.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null, errorIsTerminal: false, color: false));
        var notChecked = new List<string>();
        Walk(root, []);
        Assert.True(notChecked.Count == 0, "no case of OutputSchemaTests runs: " + string.Join(", ", notChecked));

        void Walk(Command command, string[] path)
        {
            if (command.Subcommands.Count == 0 && path.Length > 0 && !Cases.Any(c => c.Args.Take(path.Length).SequenceEqual(path)))
            {
                notChecked.Add("vexlab " + string.Join(' ', path));
            }

            foreach (var sub in command.Subcommands)
            {
                Walk(sub, [.. path, sub.Name]);
            }
        }
    }

    [Fact]
    public void Every_command_with_a_result_takes_json()
    {
        var root = VexlabApp.BuildRoot(new CliContext(TextWriter.Null, TextWriter.Null, errorIsTerminal: false, color: false));
        var missing = new List<string>();
        Walk(root, "vexlab");
        Assert.Empty(missing);

        void Walk(Command command, string path)
        {
            if (command.Subcommands.Count == 0 && !command.Options.Any(o => o.Name == "--json"))
            {
                missing.Add(path);
            }

            foreach (var sub in command.Subcommands)
            {
                Walk(sub, path + " " + sub.Name);
            }
        }
    }

    private static EvaluationOptions Options()
    {
        var options = new EvaluationOptions { OutputFormat = OutputFormat.List };
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs", "schemas"), "*.schema.json"))
        {
            options.SchemaRegistry.Register(JsonSchema.FromFile(file));
        }

        return options;
    }

    private static JsonSchema Schema(string name) =>
        JsonSchema.FromFile(Path.Combine(Root, "docs", "schemas", name + ".schema.json"));

    private static void Validate(string schema, string command, string text, List<string> failures)
    {
        JsonNode? doc;
        try
        {
            doc = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException e)
        {
            failures.Add($"vexlab {command}: not one JSON document on stdout: {e.Message}");
            return;
        }

        var result = Schema(schema).Evaluate(doc, Options());
        if (!result.IsValid)
        {
            failures.Add($"vexlab {command} against {schema}.schema.json:\n{SchemaErrors.Describe(result)}");
        }
    }

    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // The docs tests run one at a time (AssemblyInfo.cs), so the working directory is ours.
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = _dir;
        try
        {
            var code = VexlabApp.Run(args, new CliContext(output, error, errorIsTerminal: false, color: false));
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }
}
