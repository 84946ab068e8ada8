using System.Diagnostics;
using Vexlab.Cli.Infrastructure;
using Vexlab.Results.Store;
using Vexlab.Results.Sweeps;

namespace Vexlab.Cli.Tests;

/// <summary>
/// A signal stops a sweep's runs in progress, not only the runs after them: a shard waited for its runs to end
/// (17 s for one of 60 simulated seconds) before exiting, past the grace period a batch scheduler gives before
/// SIGKILL. A run stopped part way is not stored, since its row would pass for a whole run; the resume runs it again.
/// </summary>
public sealed class SweepStopTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vexlab-sweep-stop-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Cancelling_stops_the_run_in_progress_and_stores_none_of_it()
    {
        var file = Path.Combine(_dir, "long.yaml");
        File.WriteAllText(file, """
            name: long
            scenario: swap-overcommit
            set:
              duration: 600s
            protocols: [sync]
            seeds: 1
            axes:
              - {name: latency, key: host.latency, unit: us, values: [10]}
            """);
        // 600 s of simulated time take about 50 s to run here (60 s took 5 s, and a loaded machine once let that run
        // finish before the cancel 0.3 s after its start reached it), so the cancel always meets the run in progress.
        var sweep = SweepFile.Load(file);
        var db = Path.Combine(_dir, "long.duckdb");
        var simulate = SimulatorSweepRunner.Create();
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        System.Text.Json.Nodes.JsonObject Run(SweepRun run, CancellationToken ct)
        {
            started.TrySetResult();
            return simulate(run, ct);
        }

        SweepSummary summary;
        var clock = Stopwatch.StartNew();
        using (var store = SweepStore.Open(db))
        {
            var sweeping = Task.Run(() => SweepExecutor.Run(sweep, store, Run, new SweepOptions { Jobs = 1 }, null, stop.Token));
            await started.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await Task.Delay(300);
            stop.Cancel();
            var stopping = Stopwatch.StartNew();
            summary = await sweeping;

            // Generous: the run checks its token every 4,096 events, well under a second on a loaded machine.
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(8), $"the sweep took {stopping.Elapsed.TotalSeconds:0.0} s to stop");
        }

        Assert.True(summary.Stopped);
        Assert.Equal(0, summary.Ran);
        Assert.Equal(new object?[] { 0L }, StoreOperations.Query(db, "SELECT count(*) FROM results").Rows[0]);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(1));
    }
}
