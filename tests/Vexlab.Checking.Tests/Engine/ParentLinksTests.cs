using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

public sealed class ParentLinksTests
{
    [Fact]
    public void Lookups_return_every_parent_of_a_non_decreasing_sequence()
    {
        var random = new Random(7);
        var links = new ParentLinks();
        var expected = new List<int> { -1 };
        links.Add(-1);
        int parent = 0;
        for (int id = 1; id < 100_000; id++)
        {
            // Mostly small steps, now and then a run of parents without new children; a parent's id is below its child's.
            parent = Math.Min(id - 1, parent + random.Next(10) switch { 0 => random.Next(200), < 5 => 0, _ => 1 });
            expected.Add(parent);
            links.Add(parent);
        }

        for (int id = 0; id < expected.Count; id++)
        {
            Assert.Equal(expected[id], links[id]);
        }

        // Two bits a state or so, samples included: far below the four bytes of a plain array.
        Assert.True(links.UsedBytes < expected.Count, links.UsedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Checkpoint_round_trip_keeps_the_parents()
    {
        var links = new ParentLinks();
        links.Add(-1);
        for (int id = 1; id < 1_000; id++)
        {
            links.Add(id / 3);
        }

        using var stream = new MemoryStream();
        using (var output = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            links.WriteTo(output);
        }

        stream.Position = 0;
        var copy = new ParentLinks();
        using (var input = new BinaryReader(stream))
        {
            copy.ReadFrom(input);
        }

        Assert.Equal(links.Count, copy.Count);
        for (int id = 0; id < 1_000; id++)
        {
            Assert.Equal(links[id], copy[id]);
        }
    }

    [Fact]
    public void A_large_search_stores_at_most_12_bytes_a_state_parent_links_included()
    {
        // 343,000 states of 12 bytes: the table (8-byte fingerprints, 73% to 88% full), the parent links and the
        // action indices, over the states.
        CheckResult result = Checker.Run(
            new GridSystem(70, liveness: false),
            new CheckerOptions { Workers = 1, MaxMemoryBytes = 1L << 30 });
        Assert.Equal(70 * 70 * 70, result.States);
        Assert.InRange(result.BytesPerState, 9, 12);
    }
}
