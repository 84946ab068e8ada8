using Vexlab.Model.Guest;

namespace Vexlab.Model.Machine;

/// <summary>
/// A driver's choice at pick_next_task, as a number that rides in <see cref="MachineAction.Pick"/>:
/// 0 takes the model's default (round robin among the vCPU's runnable tasks), k takes the k-th
/// other runnable task of the vCPU in task order. The checker lists every k, so its choice of the
/// next task is any runnable task: a superset of every policy. Pure: it reads the machine only.
/// </summary>
public static class ScheduleChoice
{
    /// <summary>
    /// The most alternatives one action carries (3 bits of the packed action): with more than
    /// eight runnable tasks on one vCPU the checker tries the default and the first seven others.
    /// </summary>
    public const int MaxAlternatives = 7;

    /// <summary>How many runnable tasks of <paramref name="vcpu"/> other than <paramref name="fallback"/> the scheduler could pick.</summary>
    public static int Alternatives(Machine machine, int vcpu, int fallback)
    {
        ArgumentNullException.ThrowIfNull(machine);
        var n = 0;
        for (var t = machine.Config.Vcpus; t < machine.TaskCount; t++)
        {
            if (t != fallback && IsCandidate(machine, vcpu, t))
            {
                n++;
            }
        }

        return Math.Min(n, MaxAlternatives);
    }

    /// <summary>The task choice <paramref name="pick"/> names; <paramref name="fallback"/> for 0 or a choice that no longer exists.</summary>
    public static int Resolve(Machine machine, int vcpu, int fallback, int pick)
    {
        ArgumentNullException.ThrowIfNull(machine);
        if (pick == 0)
        {
            return fallback;
        }

        var k = 0;
        for (var t = machine.Config.Vcpus; t < machine.TaskCount; t++)
        {
            if (t != fallback && IsCandidate(machine, vcpu, t) && ++k == pick)
            {
                return t;
            }
        }

        return fallback;
    }

    private static bool IsCandidate(Machine machine, int vcpu, int t)
    {
        ref readonly var task = ref machine.Task(t);
        return task.Vcpu == vcpu && task.Status == TaskPhase.Runnable;
    }
}
