using CsCheck;
using Vexlab.Fuzz;

namespace Vexlab.Cli.Tests;

/// <summary>
/// The fuzz invariant (every input ends in exit 0, 1, 2 or 3, never an internal error or a hang)
/// over the regression corpus, the seeds, odd file kinds, and a bounded run of fresh mutants.
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

    [Fact]
    public void A_bounded_run_of_mutants_keeps_the_invariant()
    {
        var runs = 0;
        Fuzzer.Cases(_harness).Sample(
            c =>
            {
                runs++;
                return _harness.Execute(c).Holds;
            },
            iter: 400,
            time: 60,
            threads: 1,
            print: c => $"{c}: {_harness.Execute(c)}");
        Assert.True(runs >= 100, $"only {runs} inputs ran");
    }
}
