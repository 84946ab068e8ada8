using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>explain protocol --steps</c> prints the steps behind every cell after the table, and with <c>--json</c> writes
/// them as each row's <c>not_present_steps</c> and <c>ready_steps</c>; without it neither has them (the JSON had them
/// always, so --steps changed nothing there).
/// </summary>
public sealed class ExplainProtocolStepsTests
{
    [Fact]
    public void Steps_follow_the_table_under_a_heading_for_every_cell()
    {
        var plain = CliRunner.Run("explain", "protocol", "kvm-pf");
        var steps = CliRunner.Run("explain", "protocol", "kvm-pf", "--steps");
        Assert.Equal(0, steps.ExitCode);
        Assert.StartsWith(plain.Stdout, steps.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(" -> ", plain.Stdout, StringComparison.Ordinal);

        var lines = steps.Stdout[plain.Stdout.Length..].TrimEnd('\n').Split('\n');
        var headings = lines.Where(l => !l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        var rows = JsonRows("kvm-pf");
        Assert.Equal(
            rows.SelectMany(r => new[] { $"{r["context"]}, not_present = {r["not_present"]}:", $"{r["context"]}, ready = {r["ready"]}:" }),
            headings);

        // kvm-pf's user-mode cell: the access exits on the EPT violation and starts async work; the entry delivers #PF.
        var user = lines.SkipWhile(l => l != "user, not_present = pf-not-present:").Skip(1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)).ToList();
        Assert.Contains(user, l => l.Contains("-> AccessFault, exit EptViolation, AsyncStarted", StringComparison.Ordinal));
        Assert.Equal("  vCPU0: Enter -> deliver #PF", user[^1]);
    }

    [Theory]
    [InlineData("kvm-pf")]
    [InlineData("ve")]
    public void A_step_names_the_program_only_when_it_is_not_the_task_s_own(string protocol)
    {
        var steps = CliRunner.Run("explain", "protocol", protocol, "--steps");
        Assert.Equal(0, steps.ExitCode);

        // A workload task's program carries the task's name: "[a: a: Touch]" said it twice.
        Assert.DoesNotMatch(@"Step \[([^:\]]+): \1: ", steps.Stdout);
        var user = steps.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("user, not_present", StringComparison.Ordinal)).Skip(1).ToList();
        Assert.StartsWith("  vCPU0: Step [a: Touch] -> AccessFault", user[0], StringComparison.Ordinal);
        if (protocol == "ve")
        {
            // The #VE handler runs on the task's stack under its own name, which the step keeps.
            Assert.StartsWith("  vCPU0: Step [a: exc_virtualization_exception (seed): StoreVeInfo]", user[1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Json_has_the_steps_only_with_steps_and_they_are_the_printed_ones()
    {
        var plain = JsonRows("kvm-pf-int");
        Assert.All(plain, r => Assert.Null(r["not_present_steps"]));
        Assert.All(plain, r => Assert.Null(r["ready_steps"]));

        var json = CliRunner.Run("explain", "protocol", "kvm-pf-int", "--steps", "--json");
        Assert.Equal(0, json.ExitCode);
        var rows = JsonNode.Parse(json.Stdout)!["rows"]!.AsArray();
        Assert.Equal(plain.Count, rows.Count);

        // Beside --json the table and its steps go to standard error: the same steps, cell for cell.
        var printed = json.Stderr.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l[2..]);
        var written = rows.SelectMany(r => r!["not_present_steps"]!.AsArray().Concat(r["ready_steps"]!.AsArray())).Select(s => (string)s!);
        Assert.All(rows, r => Assert.NotEmpty(r!["not_present_steps"]!.AsArray()));
        Assert.Equal(printed, written);
    }

    private static List<JsonNode> JsonRows(string protocol)
    {
        var result = CliRunner.Run("explain", "protocol", protocol, "--json");
        Assert.Equal(0, result.ExitCode);
        return [.. JsonNode.Parse(result.Stdout)!["rows"]!.AsArray().Select(r => r!)];
    }
}
