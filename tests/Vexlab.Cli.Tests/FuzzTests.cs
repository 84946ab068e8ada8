using CsCheck;
using Vexlab.Fuzz;

namespace Vexlab.Cli.Tests;

/// <summary>
/// The fuzz invariant (every input ends in exit 0, 1, 2 or 3, never an internal error or a hang)
/// over the regression corpus, the seeds, odd file kinds, and a fixed set of mutants.
/// The long run: <c>dotnet run --project tests/Vexlab.Fuzz -c Release -- SECONDS</c>.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private readonly Harness _harness = new(Harness.FindHome());

    public void Dispose() => _harness.Dispose();

    public static TheoryData<string, string> Corpus()
    {
        var data = new TheoryData<string, string>();
        var home = Harness.FindHome();
        foreach (var folder in new[] { "corpus", "seeds" })
        {
            foreach (var target in FuzzTarget.All)
            {
                var dir = Path.Combine(home, folder, target.Name);
                if (!Directory.Exists(dir))
                {
                    continue;
                }

                foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                {
                    data.Add(target.Name, Path.GetRelativePath(home, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Every_corpus_and_seed_input_keeps_the_invariant(string target, string file)
    {
        var fuzzTarget = FuzzTarget.All.Single(t => t.Name == target);
        var bytes = File.ReadAllBytes(Path.Combine(_harness.Home, file));
        var outcome = _harness.Execute(fuzzTarget, bytes, Path.GetExtension(file));
        Assert.True(outcome.Holds, $"{file}: {outcome}");
    }

    [Fact]
    public void Every_seed_is_accepted_unmutated()
    {
        // A seed that is itself refused would only fuzz the first check: each must run clean.
        foreach (var target in FuzzTarget.All.Where(t => t.Name != "trace"))
        {
            foreach (var (name, bytes) in _harness.Seeds[target.Name])
            {
                var outcome = _harness.Execute(target, bytes, Path.GetExtension(name));
                Assert.True(outcome.ExitCode is 0 or 1 or 3, $"{target.Name}/{name}: {outcome}");
            }
        }
    }

    // Two repeats of a 20 KB line's 201 copies once made an 816 MB option value, which no command line can
    // carry (an argument is at most 128 KiB on Linux) and whose run outlived the harness's 30 s.
    [Fact]
    public void Inputs_stay_within_what_a_person_can_pass()
    {
        var line = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("[{a: ", 4_000)));
        var repeat = new Mutation(MutationKind.RepeatLine, 0, 1, 0);
        var grown = new FuzzCase(FuzzTarget.All.Single(t => t.Name == "duration"), "line", line, [repeat, repeat]).Bytes();
        Assert.Equal(FuzzCase.MaxInputBytes, grown.Length);
        Assert.True(FuzzCase.MaxInputBytes > Vexlab.Scenarios.Files.InputLimits.DefaultMaxBytes);
        Assert.Equal(FuzzCase.MaxArgumentBytes, System.Text.Encoding.UTF8.GetByteCount(FuzzCase.AsValue(grown)));

        var outcome = _harness.Execute(FuzzTarget.All.Single(t => t.Name == "duration"), grown, string.Empty);
        Assert.True(outcome.Holds, outcome.ToString());
        Assert.Equal(2, outcome.ExitCode);
    }

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/null")]
    [InlineData("/")]
    [InlineData("")]
    public void Odd_file_kinds_are_refused_in_one_line(string path)
    {
        foreach (var target in FuzzTarget.All.Where(t => t.IsFile))
        {
            var outcome = Harness.Invoke(target.Arguments(path, Path.GetTempPath()));
            Assert.Equal(2, outcome.ExitCode);
            Assert.Single(outcome.Stderr.TrimEnd('\n').Split('\n'));
        }
    }

    /// <summary>
    /// The same mutants on every run (stream k of one seed for the k-th), so that the suite passes or fails alike on
    /// every machine and a failure names its input; fresh mutants are the long run's job (see the class summary).
    /// A random run here once turned a build red for a bug found by chance, in code the build had not touched.
    /// </summary>
    [Fact]
    public void A_fixed_run_of_mutants_keeps_the_invariant()
    {
        const int Mutants = 3000;
        var cases = Fuzzer.Cases(_harness);
        var broken = new List<string>();
        var perTarget = new Dictionary<string, int>();
        for (uint k = 0; k < Mutants; k++)
        {
            var c = cases.Generate(new PCG(k, FixedSeed), null, out _);
            perTarget[c.Target.Name] = perTarget.GetValueOrDefault(c.Target.Name) + 1;
            var outcome = _harness.Execute(c);
            if (!outcome.Holds)
            {
                broken.Add($"mutant {k}: {c}: {outcome}");
            }
        }

        Assert.True(broken.Count == 0, $"{broken.Count} of {Mutants} broke the invariant:\n{string.Join('\n', broken)}");

        // Every parser gets its share of the mutants.
        Assert.Equal(FuzzTarget.All.Count, perTarget.Count);
        Assert.All(perTarget.Values, n => Assert.True(n >= Mutants / FuzzTarget.All.Count / 2, $"{n} mutants"));
    }

    private const ulong FixedSeed = 0x5EED_F022_2026_1204;
}
