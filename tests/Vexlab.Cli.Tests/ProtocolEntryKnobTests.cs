namespace Vexlab.Cli.Tests;

/// <summary>
/// A knob inside a protocol entry that the entry's protocol does not read: <c>compare --protocols
/// 'kvm-pf[guest.ve.can_continue=always]'</c> ran plain kvm-pf under a label claiming the knob was set, exit 0,
/// while <c>--set guest.ve.can_continue=always</c> with kvm-pf was refused. Refused the same way, naming the entry.
/// </summary>
public sealed class ProtocolEntryKnobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-entryknob-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--protocols", "compare", "--builtin", "swap-overcommit", "--duration", "5ms", "--protocols", "ve,kvm-pf[guest.ve.can_continue=always]")]
    [InlineData("--protocol", "run", "--builtin", "swap-overcommit", "--duration", "5ms", "--protocol", "kvm-pf[guest.ve.can_continue=always]")]
    [InlineData("--protocols", "check", "--matrix", "--protocols", "kvm-pf[guest.ve.can_continue=always]")]
    public void A_knob_the_entry_does_not_use_is_refused(string option, params string[] args)
    {
        var result = CliRunner.Run(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"vexlab: {option} kvm-pf[guest.ve.can_continue=always]: guest.ve.can_continue: kvm-pf does not use this knob (it applies to ve)\n", result.Stderr);
        Assert.Equal(string.Empty, result.Stdout);
    }

    [Fact]
    public void A_sweep_entry_names_its_line()
    {
        var sweep = Path.Combine(_dir, "s.yaml");
        File.WriteAllText(sweep, "scenario: swap-overcommit\nprotocols: [ve, \"kvm-pf[guest.ve.can_continue=always]\"]\nseeds: 1\n");
        var result = CliRunner.RunFake("sweep", "run", sweep, "--db", Path.Combine(_dir, "s.duckdb"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"vexlab: {sweep}:2:", result.Stderr, StringComparison.Ordinal);
        Assert.EndsWith(": kvm-pf[guest.ve.can_continue=always]: guest.ve.can_continue: kvm-pf does not use this knob (it applies to ve)\n", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "s.duckdb")));
    }

    [Fact]
    public void A_knob_the_entry_uses_still_runs()
        => Assert.Equal(0, CliRunner.Run("compare", "--builtin", "swap-overcommit", "--duration", "5ms", "--protocols", "ve[guest.ve.can_continue=always]").ExitCode);
}
