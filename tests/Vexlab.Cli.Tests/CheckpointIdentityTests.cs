using System.Text.Json.Nodes;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A checkpoint resumes only the check it was written for, and a refusal says what differs. A model file edited
/// between the stop and the resume (an invariant, a program) left the initial state as it was, and the resume went
/// on with the old model's table: a pass, where a fresh check of the edited file found a violation.
/// </summary>
public sealed class CheckpointIdentityTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vexlab-checkpoint-identity-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string P(string name) => Path.Combine(_folder, name);

    private const string Model = """
        name: edited
        vcpus: 1
        pages: 2
        host_absent: [0, 1]
        tasks:
          - {name: a, mode: user, vcpu: 0, program: "touch 0; touch 1"}
          - {name: b, mode: user, vcpu: 0, program: "touch 1"}
        invariants:
          - {name: sleepers, expr: "sleeping <= 2"}
        """;

    /// <summary>Each edit keeps the initial state: a weaker invariant, a longer program.</summary>
    [Theory]
    [InlineData("sleeping <= 2", "sleeping <= 1")]
    [InlineData("program: \"touch 1\"", "program: \"touch 1; touch 0\"")]
    public void A_model_file_edited_after_the_stop_is_refused_naming_its_text(string before, string after)
    {
        var file = P("m.yaml");
        File.WriteAllText(file, Model);
        var stopped = CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--max-states", "300", "--checkpoint", P("cp"));
        Assert.True(stopped.ExitCode == 3, stopped.Stderr);

        File.WriteAllText(file, Model.Replace(before, after, StringComparison.Ordinal));
        var resumed = CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--resume", P("cp"));
        Assert.True(resumed.ExitCode == 2, resumed.Stdout + resumed.Stderr);
        Assert.Contains("written for a different check: model file text ", resumed.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("initial state", resumed.Stderr, StringComparison.Ordinal);
        Assert.Equal(string.Empty, resumed.Stdout);
    }

    [Fact]
    public void The_same_file_resumes_to_the_uninterrupted_result()
    {
        var file = P("m.yaml");
        File.WriteAllText(file, Model);
        var whole = CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--json", "-");
        Assert.True(whole.ExitCode == 0, whole.Stderr);
        Assert.True(CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--max-states", "300", "--checkpoint", P("cp")).ExitCode == 3);
        var resumed = CliRunner.Run("check", file, "--protocol", "kvm-pf-int", "--resume", P("cp"), "--json", "-");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Equal(JsonNode.Parse(whole.Stdout)!["states"]!.GetValue<long>(), JsonNode.Parse(resumed.Stdout)!["states"]!.GetValue<long>());
    }

    /// <summary>The refusal names only what differs, as the checkpoint has it and as this check has it.</summary>
    [Fact]
    public void A_different_fingerprint_width_is_named_alone()
    {
        Assert.True(CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf-int", "--max-states", "300", "--checkpoint", P("cp")).ExitCode == 3);
        var resumed = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf-int", "--fingerprint-bits", "128", "--resume", P("cp"));
        Assert.True(resumed.ExitCode == 2, resumed.Stderr);
        Assert.Contains("written for a different check: 64-bit fingerprints (this check: 128-bit);", resumed.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("protocol", resumed.Stderr.Split("resume with", 2)[0], StringComparison.Ordinal);

        var other = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf", "--resume", P("cp"));
        Assert.True(other.ExitCode == 2, other.Stderr);
        Assert.Contains("protocol kvm-pf-int (this check: protocol kvm-pf)", other.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_checkpoint_file_is_said_to_be_cut_short()
    {
        Directory.CreateDirectory(P("cp"));
        File.WriteAllBytes(Path.Combine(P("cp"), "checkpoint.vxck"), []);
        var resumed = CliRunner.Run("check", "--builtin", "truncate", "--protocol", "kvm-pf-int", "--resume", P("cp"));
        Assert.True(resumed.ExitCode == 2, resumed.Stderr);
        Assert.Contains("damaged (cut short: checkpoint.vxck ends after 0 bytes)", resumed.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unable to read", resumed.Stderr, StringComparison.Ordinal);
    }
}
