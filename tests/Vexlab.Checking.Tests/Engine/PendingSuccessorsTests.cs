using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The first violation of each property is the first in state and action order, whatever order the states were
/// expanded in: a worker taking chunks from the back of its segment meets later states first.
/// </summary>
public sealed class PendingSuccessorsTests
{
    [Fact]
    public void The_earliest_parent_and_its_first_violating_action_stand_in_any_expansion_order()
    {
        var pending = new PendingSuccessors<ulong, Fingerprint64>(stateSize: 8, maxActions: 4);
        int[] source = [-1, -1];
        int[] action = [-1, -1];

        // Parent 9 violates property 0 with its actions 1 and 3: the first property gets its first.
        Note(pending, parent: 9, [0, 1, 0, 1], source, action, expectDecided: 1);
        Assert.Equal((9, 1), (source[0], action[0]));

        // An earlier parent, met later, replaces it without deciding the property again; property 1 is decided too.
        Note(pending, parent: 4, [0, 0, 3, 1], source, action, expectDecided: 1);
        Assert.Equal((4, 2), (source[0], action[0]));
        Assert.Equal((4, 2), (source[1], action[1]));

        // Later parents change nothing.
        Note(pending, parent: 6, [3, 3, 0, 0], source, action, expectDecided: 0);
        Assert.Equal((4, 2), (source[0], action[0]));
        Assert.Equal((4, 2), (source[1], action[1]));
    }

    private static void Note(PendingSuccessors<ulong, Fingerprint64> pending, int parent, ulong[] violated, int[] source, int[] action, int expectDecided)
    {
        pending.Source = parent;
        pending.Count = violated.Length;
        violated.CopyTo(pending.Violated, 0);
        Assert.Equal(expectDecided, pending.NoteViolations(source, action));
    }
}
