using System.Globalization;
using CsCheck;
using Vexlab.Fuzz;

// vexlab's long fuzz run: dotnet run --project tests/Vexlab.Fuzz -c Release -- [SECONDS]
// Every input that breaks the invariant (exit other than 0-3, an internal error, too slow) is kept
// in tests/Vexlab.Fuzz/corpus/TARGET/, which the test suite replays; commit the ones it finds.
var seconds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 600;
using var harness = new Harness(Harness.FindHome());
var runs = 0L;
var broken = 0;
var perTarget = FuzzTarget.All.ToDictionary(t => t.Name, _ => 0L);
Fuzzer.Cases(harness).Sample(
    c =>
    {
        var bytes = c.Bytes();
        var outcome = harness.Execute(c.Target, bytes, Harness.Extension(c.SeedName));
        Interlocked.Increment(ref runs);
        lock (perTarget)
        {
            perTarget[c.Target.Name]++;
        }

        if (!outcome.Holds)
        {
            Interlocked.Increment(ref broken);
            var path = harness.Save(c.Target, bytes, Harness.Extension(c.SeedName));
            Console.WriteLine($"BROKEN {c}: {outcome} -> {path}");
            if (outcome.ExitCode == -1)
            {
                // The input's thread cannot be stopped (.NET has no Thread.Abort) and runs on in the background,
                // taking a core from every later input, which would then overrun the bound in turn: the campaign
                // ends at the first input that did not end in time, with that input kept.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{runs} inputs, stopped at the first that did not end in {Outcome.TimeBound.TotalSeconds} s"));
                Environment.Exit(1);
            }
        }

        return true;
    },
    iter: long.MaxValue,
    time: seconds,
    threads: 1,
    writeLine: _ => { });
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{runs} inputs in {seconds} s, {broken} broke the invariant"));
foreach (var (name, count) in perTarget)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-18} {count}"));
}

return broken == 0 ? 0 : 1;
