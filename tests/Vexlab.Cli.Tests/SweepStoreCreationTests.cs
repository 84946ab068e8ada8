using System.Collections.Concurrent;

namespace Vexlab.Cli.Tests;

/// <summary>
/// <c>sweep run</c> makes a new store under a temporary name and renames it into place once its sweep row and axis
/// columns are in: a Ctrl-C 0.65 s into a sweep left, under the store's name, an empty sweep table, a .wal and tables
/// without the axis column, which results export wrote out as if whole and sweep merge called no sweep store.
/// </summary>
public sealed class SweepStoreCreationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-store-creation-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_store_first_appears_under_its_name_whole()
    {
        File.WriteAllText(Path.Combine(_dir, "s.yaml"), """
            name: s
            scenario: postcopy
            protocols: [sync]
            seeds: 1
            axes:
              - {name: latency, key: host.latency, unit: us, values: [1, 10]}
            """);
        var events = new ConcurrentQueue<(WatcherChangeTypes Change, string Name)>();
        using (var watcher = new FileSystemWatcher(_dir) { IncludeSubdirectories = false })
        {
            watcher.Created += (_, e) => events.Enqueue((e.ChangeType, e.Name!));
            watcher.Renamed += (_, e) => events.Enqueue((e.ChangeType, e.Name!));
            watcher.EnableRaisingEvents = true;
            var result = CliRunner.RunFake("sweep", "run", Path.Combine(_dir, "s.yaml"), "--db", Path.Combine(_dir, "s.duckdb"), "--jobs", "1");
            Assert.Equal(0, result.ExitCode);

            // inotify's events come on the watcher's thread: wait for the rename or creation of the store.
            for (var i = 0; i < 100 && !events.Any(e => e.Name == "s.duckdb"); i++)
            {
                await Task.Delay(50);
            }
        }

        // Renamed into place, never created there to be filled in.
        Assert.Equal(WatcherChangeTypes.Renamed, events.First(e => e.Name == "s.duckdb").Change);
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith(".s.duckdb", StringComparison.Ordinal));
    }
}
