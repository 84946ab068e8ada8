using System.Diagnostics;
using System.Security.Cryptography;
using Vexlab.Cli;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Fuzz;

/// <summary>
/// Runs inputs through the real command line, in process, on a thread with a 1 MiB stack (smaller
/// than the main thread's, so a parser that recurses too deep fails here first), and checks
/// <see cref="Outcome.Holds"/>.
/// </summary>
public sealed class Harness : IDisposable
{
    private const int StackBytes = 1 << 20;
    private readonly string _scratch = Directory.CreateTempSubdirectory("vexlab-fuzz-").FullName;

    public Harness(string home)
    {
        Home = home;
        Seeds = FuzzTarget.All.ToDictionary(
            t => t.Name,
            t => Directory.GetFiles(Path.Combine(home, "seeds", t.Name)).Order(StringComparer.Ordinal)
                .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray());
    }

    /// <summary>The fuzz project's folder: seeds/ and corpus/ live there.</summary>
    public string Home { get; }

    public IReadOnlyDictionary<string, (string Name, byte[] Bytes)[]> Seeds { get; }

    /// <summary>The fuzz project's folder, found from the running assembly (tests and the fuzz command alike).</summary>
    public static string FindHome()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Vexlab.Fuzz");
            if (Directory.Exists(Path.Combine(candidate, "seeds")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/Vexlab.Fuzz/seeds not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => Directory.Delete(_scratch, recursive: true);

    /// <summary>Runs one input of <paramref name="target"/>.</summary>
    public Outcome Execute(FuzzTarget target, byte[] input, string extension)
    {
        var run = Path.Combine(_scratch, Path.GetRandomFileName());
        Directory.CreateDirectory(run);
        try
        {
            string argument;
            if (target.IsFile)
            {
                argument = Path.Combine(run, "input" + extension);
                File.WriteAllBytes(argument, input);
            }
            else
            {
                argument = FuzzCase.AsValue(input);
            }

            return Invoke(target.Arguments(argument, run));
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }

    public Outcome Execute(FuzzCase c) => Execute(c.Target, c.Bytes(), Extension(c.SeedName));

    /// <summary>Runs vexlab with <paramref name="args"/>; an input that does not end in time is a failure.</summary>
    public static Outcome Invoke(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = -1;
        var clock = Stopwatch.StartNew();
        var thread = new Thread(
            () => code = VexlabApp.Run(args, new CliContext(output, error, errorIsTerminal: false, color: false)),
            StackBytes)
        {
            IsBackground = true,
            Name = "fuzz input",
        };
        thread.Start();
        var ended = thread.Join(Outcome.TimeBound);
        clock.Stop();
        lock (error)
        {
            return new Outcome(ended ? code : -1, ended ? error.ToString() : "(did not end in time)", clock.Elapsed);
        }
    }

    /// <summary>Keeps an input that broke the invariant in corpus/TARGET, named by its hash.</summary>
    public string Save(FuzzTarget target, byte[] input, string extension)
    {
        var folder = Path.Combine(Home, "corpus", target.Name);
        Directory.CreateDirectory(folder);
        var name = Convert.ToHexStringLower(SHA256.HashData(input))[..16] + extension;
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, input);
        return path;
    }

    public static string Extension(string seedName) => Path.GetExtension(seedName);
}
