using System.CommandLine;
using Spectre.Console;
using Vexlab.Cli.Infrastructure;
using Vexlab.Model.Configuration;
using Vexlab.Results.Store;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab results query</c> and <c>vexlab results export</c>.</summary>
public static class ResultsCommand
{
    public static Command Create(CliContext context)
    {
        var results = new Command("results", "Query and export a result store");
        results.Subcommands.Add(CreateQuery(context));
        results.Subcommands.Add(CreateExport(context));
        return results;
    }

    private static Command CreateQuery(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "The result store" };
        var sql = new Argument<string>("SQL") { Description = "A DuckDB query over the tables results, tasks and sweep" };
        var format = new Option<string>("--format") { Description = "table, csv or json", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "csv", "json");
        var json = JsonTarget.CreateOption();
        var wide = TerminalWidth.CreateOption();
        var command = new Command("query", "Run SQL on a result store (read-only)");
        command.Arguments.Add(file);
        command.Arguments.Add(sql);
        command.Options.Add(format);
        command.Options.Add(json);
        command.Options.Add(wide);
        command.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, json);
            DistinctFiles.Require([("store FILE", parse.GetValue(file))], [target.Output]);
            if (target.Enabled && parse.Given(format) && parse.GetValue(format) != "json")
            {
                throw new InputException($"--format {parse.GetValue(format)} and --json do not go together: --json writes the rows as JSON");
            }

            var result = StoreOperations.Query(parse.GetValue(file)!, parse.GetValue(sql)!);

            // Every result carries its seed and replay line: a query reads stored runs and draws nothing at random, so
            // its seed is null (each run's is in the store's seed column), as sweep merge's, plot's and report's are.
            var replay = GivenCommandLine.Replay(parse, json);
            if (target.Enabled)
            {
                // --json is --format json, to a file when given one; the replay line also goes to stderr, as every
                // command's with --json does.
                var document = QueryDocument(result);
                ReplayLine.CarryUnseeded(document, context.Error, replay);
                ResultDocument.Write(context, target, document);
                return ExitCodes.Done;
            }

            switch (parse.GetValue(format))
            {
                case "csv":
                    context.DataOutput.Write(result.ToCsv());
                    break;
                case "json":
                    var rows = QueryDocument(result);
                    rows["seed"] = null;
                    rows["replay"] = replay;
                    var json = ResultDocument.Serialize(rows) + "\n";
                    context.Output.Write(context.Unicode ? json : OutputCharset.EscapeJson(json));
                    break;
                default:
                    var table = new FittedTable(TableShape.Records);
                    foreach (var column in result.Columns)
                    {
                        table.Column(column);
                    }

                    foreach (var row in result.Rows)
                    {
                        table.Row([.. row.Select(QueryResult.FormatValue)]);
                    }

                    table.Write(context.OutConsole, context.TableWidth(context.OutConsole, parse.GetValue(wide)));
                    break;
            }

            return ExitCodes.Done;
        });
        return command;
    }

    private static System.Text.Json.Nodes.JsonObject QueryDocument(QueryResult result)
    {
        var doc = ResultDocument.Create();
        doc["columns"] = new System.Text.Json.Nodes.JsonArray(result.Columns.Select(c => (System.Text.Json.Nodes.JsonNode?)c).ToArray());
        doc["rows"] = result.ToJsonRows();
        return doc;
    }

    private static Command CreateExport(CliContext context)
    {
        var file = new Argument<string>("FILE") { Description = "The result store" };
        var format = new Option<string?>("--format") { Description = "parquet or csv (default: from --out's extension, .csv or .parquet; parquet without --out)" };
        format.AcceptOnlyFromAmong("parquet", "csv");
        var table = new Option<string>("--table") { Description = "results, tasks or sweep", DefaultValueFactory = _ => SweepStore.ResultsTable };
        table.AcceptOnlyFromAmong(SweepStore.ResultsTable, SweepStore.TasksTable, SweepStore.MetaTable);
        var output = new Option<string?>("--out") { Description = "The file to write (default: FILE with the table and format as extension)", HelpName = "PATH" };
        var json = JsonTarget.CreateOption();
        var command = new Command("export", "Write a table of a result store as Parquet or CSV");
        command.Arguments.Add(file);
        command.Options.Add(format);
        command.Options.Add(table);
        command.Options.Add(output);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var jsonTarget = JsonTarget.From(parse, json);
            var path = parse.GetValue(file)!;
            var name = parse.GetValue(table)!;
            var fmt = ExportFormat(parse.GetValue(format), parse.GetValue(output));
            // Beside the store: only its extension changes (a folder such as ../ in the path stays as written).
            var target = parse.GetValue(output)
                ?? Path.ChangeExtension(path, (name == SweepStore.ResultsTable ? string.Empty : "." + name) + "." + fmt);
            DistinctFiles.Require([], [("--out", target), jsonTarget.Output]);
            if (Path.GetFullPath(target) == Path.GetFullPath(path))
            {
                throw InputException.At(null, 0, 0, "--out", "would overwrite the store itself");
            }

            OutputKind.Refuse(parse, "--out", target, OutputKind.Export(fmt));

            StoreOperations.Export(path, name, fmt, target);
            context.HumanWriter(jsonTarget).WriteLine($"wrote {target}");
            var doc = ResultDocument.Create();
            doc["db"] = path;
            doc["table"] = name;
            doc["format"] = fmt;
            doc["out"] = target;
            doc["bytes"] = new FileInfo(target).Length;

            // An export copies stored runs: no seed of its own (null), and a line that writes the same file again; the
            // line goes to stderr with --json, as query's does, the file being what a person reads otherwise.
            if (jsonTarget.Enabled)
            {
                ReplayLine.CarryUnseeded(doc, context.Error, GivenCommandLine.Replay(parse, json));
            }

            ResultDocument.Write(context, jsonTarget, doc);
            return ExitCodes.Done;
        });
        return command;
    }

    /// <summary>
    /// The export's format: --format, or else the extension of --out, or else (neither given) Parquet, as the help says
    /// (<c>results export merged.duckdb</c> was refused though both options have defaults); a .csv or .parquet --out
    /// that --format contradicts is refused rather than written in the other format under that name, and an --out of
    /// another extension needs --format.
    /// </summary>
    private static string ExportFormat(string? format, string? output)
    {
        var extension = output is null ? null : Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".csv" => "csv",
            ".parquet" => "parquet",
            _ => null,
        };
        if (format is not null && extension is not null && format != extension)
        {
            throw InputException.At(null, 0, 0, "--out", $"{output} names a .{extension} file, but --format is {format}");
        }

        return format ?? extension ?? (output is null
            ? "parquet"
            : throw InputException.At(null, 0, 0, "--format", "give --format csv or parquet, or an --out ending in .csv or .parquet"));
    }
}
