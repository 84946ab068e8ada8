using System.Text.RegularExpressions;
using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

/// <summary>
/// What ships is the real thing: no test double in the assemblies vexlab loads (the sweep runner's
/// stand-in with made-up numbers once shipped in src/ and was selected by an environment variable),
/// and every environment variable the code reads is one the docs describe.
/// </summary>
public sealed partial class ShippedCodeTests
{
    private static readonly string Root = DocsRun.FindRoot(AppContext.BaseDirectory);

    [Fact]
    public void No_test_double_ships_in_an_assembly_vexlab_loads()
    {
        var shipped = ShippedAssemblies();
        Assert.Contains(shipped, a => a.GetName().Name == "Vexlab.Results");

        var doubles = shipped.SelectMany(a => a.GetTypes())
            .Where(t => TestDouble().IsMatch(t.Name))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(doubles.Count == 0, "test doubles belong under tests/: " + string.Join(", ", doubles));
        Assert.DoesNotContain(shipped, a => a.GetName().Name!.Contains("Fake", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_environment_variable_the_code_reads_is_in_the_docs()
    {
        var docs = string.Join("\n", new[] { "README.md" }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md"))
            .Select(f => File.ReadAllText(Path.Combine(Root, f))));
        var read = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            foreach (Match call in EnvironmentRead().Matches(text))
            {
                var argument = call.Groups[1].Value.Trim();
                read.Add(argument.StartsWith('"')
                    ? argument.Trim('"')
                    : Regex.Match(text, $@"\b{Regex.Escape(argument)}\s*=\s*""([A-Z_]+)""").Groups[1].Value is { Length: > 0 } name
                        ? name
                        : $"{Path.GetFileName(file)}: {argument} (not a constant name)");
            }
        }

        Assert.Contains("COLUMNS", read);
        var undocumented = read.Where(v => !docs.Contains(v, StringComparison.Ordinal)).ToList();
        Assert.True(undocumented.Count == 0, "read by src/ but described nowhere in README.md or docs/: " + string.Join(", ", undocumented));
    }

    /// <summary>Vexlab.Cli and every Vexlab assembly it references, transitively.</summary>
    private static List<System.Reflection.Assembly> ShippedAssemblies()
    {
        var seen = new Dictionary<string, System.Reflection.Assembly>(StringComparer.Ordinal);
        var queue = new Queue<System.Reflection.Assembly>([typeof(Vexlab.Cli.VexlabApp).Assembly]);
        while (queue.Count > 0)
        {
            var assembly = queue.Dequeue();
            if (!seen.TryAdd(assembly.GetName().Name!, assembly))
            {
                continue;
            }

            foreach (var reference in assembly.GetReferencedAssemblies().Where(r => r.Name!.StartsWith("Vexlab", StringComparison.Ordinal)))
            {
                queue.Enqueue(System.Reflection.Assembly.Load(reference));
            }
        }

        return [.. seen.Values];
    }

    [GeneratedRegex("Fake|Stub|Mock")]
    private static partial Regex TestDouble();

    [GeneratedRegex(@"GetEnvironmentVariable\(([^,)]+)")]
    private static partial Regex EnvironmentRead();
}
