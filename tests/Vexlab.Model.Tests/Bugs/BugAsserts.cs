using Vexlab.Model.Guest;
using Vexlab.Model.Machine;
using Vexlab.Model.Properties;
using Vexlab.Model.Scripting;

namespace Vexlab.Model.Tests.Bugs;

/// <summary>Checks shared by the scripted bug tests.</summary>
internal static class BugAsserts
{
    public static bool Violated(this Script s, SafetyProperty p) =>
        s.Events.Exists(e => e.Kind == ModelEventKind.PropertyViolated && e.Aux == (byte)p);

    public static bool Violated(this List<ModelEvent> events, SafetyProperty p) =>
        events.Exists(e => e.Kind == ModelEventKind.PropertyViolated && e.Aux == (byte)p);

    public static bool Has(this List<ModelEvent> events, ModelEventKind kind) => events.Exists(e => e.Kind == kind);

    public static int Count(this Script s, ModelEventKind kind) => s.Events.Count(e => e.Kind == kind);

    /// <summary>
    /// The task sleeps and nothing left in the machine can wake it: every remaining schedule
    /// (here the driver's fixed preference) runs out with the task still asleep.
    /// </summary>
    public static void AssertSleepsForever(Script s, int task)
    {
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Running, s.Machine.Outcome);
        Assert.Equal(TaskPhase.Sleeping, s.Machine.Task(task).Status);
        foreach (var a in s.Enabled())
        {
            // Only idle loops and external events remain: no host work, no deliverable wake.
            Assert.NotEqual(ActionKind.Complete, a.Kind);
            Assert.NotEqual(ActionKind.Dequeue, a.Kind);
        }
    }

    public static void AssertFinishedClean(Script s)
    {
        s.RunToEnd();
        Assert.Equal(GuestOutcome.Finished, s.Machine.Outcome);
        Assert.DoesNotContain(s.Events, e => e.Kind == ModelEventKind.PropertyViolated);
    }
}
