using Vexlab.Model.Guest;
using Vexlab.Model.Host;
using Vexlab.Model.Machine;
using Vexlab.Simulation.Driver;
using Vexlab.Simulation.Scheduling;

namespace Vexlab.Simulation.Tests.Laws;

/// <summary>
/// try_to_wake_up (kernel/sched/core.c) calls select_task_rq while the task is TASK_WAKING, before
/// ttwu_queue enqueues it; the wakeup preemption check (check_preempt_curr, wakeup_preempt since
/// 6.8) then runs on the chosen CPU's runqueue. So a woken task is enqueued on, and weighed
/// against the current task of, the vCPU the balancer chose for it, and no other: the old vCPU sees
/// neither an enqueue nor a reschedule. The simulator enqueued and preemption-checked a woken task
/// on its old vCPU first and moved it afterwards, which asked a busy old vCPU for a needless
/// reschedule and charged its scheduler an update_curr it never made.
/// </summary>
public sealed class WakePlacementLawTests
{
    /// <summary>Two hogs pinned to vCPUs 0 and 1, and unpinned tasks that fault and sleep, so that wakes find busy and idle vCPUs.</summary>
    private const string Sleepers = """
        name: sleepers
        duration: 100ms
        guest:
          vcpus: 3
        host:
          memory_limit: 64KiB
        regions:
          - name: heap
            size: 4MiB
            absent: 1.0
        tasks:
          - name: hog0
            vcpu: 0
            loop: compute 20
          - name: hog1
            vcpu: 1
            loop: compute 20
          - name: mem
            count: 4
            loop: touch heap random; compute 5; sleep 50us
        """;

    [Theory]
    [InlineData("sync", 1)]
    [InlineData("kvm-pf", 2)]
    [InlineData("kvm-pf-int", 3)]
    [InlineData("ve", 4)]
    public void AWokenTask_IsEnqueuedAndPreemptionCheckedOnlyWhereItWasPlaced(string protocol, int seed)
    {
        var setup = ScenarioRuns.Prepare(Sleepers, protocol, []).Setup;

        var m = Simulator.DriverMachine(setup.Machine);
        var sink = new Placement(m, new LoadBalancer(m, m.Config.Vcpus, setup.TaskPinned));
        var buffer = new MachineAction[m.MaxActions];
        var random = new Random(seed);
        for (var i = 0; i < 100_000 && m.Outcome == GuestOutcome.Running; i++)
        {
            // A vCPU takes the timed driver's choice of its next step; now and then its tick comes, the
            // host completes a work item, or a sleeper's hrtimer fires (the Wake action), at random.
            var v = random.Next(m.Config.Vcpus);
            var n = m.VcpuActions(v, buffer, 0);
            var roll = random.Next(8);
            MachineAction next = default;
            var found = roll > 2 && NextAction.TryChoose(buffer.AsSpan(0, n), out next);
            if (!found && roll == 2)
            {
                // The guest tick: the hogs share their vCPUs, so that the sleepers run and sleep.
                next = new MachineAction(ActionKind.Tick, (byte)v, 0);
                found = m.IsEnabled(next);
            }

            if (!found && roll <= 1)
            {
                var slot = random.Next(m.WorkCapacity);
                next = new MachineAction(ActionKind.Complete, m.Work(slot).Vcpu, (ushort)slot);
                found = m.Work(slot).Kind != WorkKind.Free && m.IsEnabled(next);
            }

            if (!found)
            {
                var t = m.Config.Vcpus + random.Next(m.TaskCount - m.Config.Vcpus);
                next = new MachineAction(ActionKind.Wake, m.Task(t).Vcpu, (ushort)t);
                found = m.IsEnabled(next);
            }

            if (found)
            {
                m.Apply(next, ref sink);
            }
        }

        Assert.Empty(sink.Broken);

        // Not vacuous: wakes found their vCPU busy and went to an idle one, and were weighed there.
        Assert.True(sink.Moved > 0, $"{sink.Woken} wakes, none moved ({sink.Asked} asked to move)");
        Assert.True(sink.Checked > 0, $"{sink.Woken} wakes, no preemption check");
    }

    /// <summary>Answers select_task_rq with the balancer's choice and checks each later question of the wake against it.</summary>
    private struct Placement(Machine machine, LoadBalancer balancer) : IModelEventSink
    {
        private int _task = -1;
        private int _from = -1;
        private int _target = -1;

        public List<string> Broken { get; } = [];

        public int Woken { get; private set; }

        public int Moved { get; private set; }

        public int Checked { get; private set; }

        public int Asked { get; private set; }

        public void On(in ModelEvent e)
        {
            if (e.Kind != ModelEventKind.TaskWoken)
            {
                return;
            }

            Woken++;
            var home = machine.Task(e.Task).Vcpu;
            if (e.Task == _task)
            {
                if (home != _target)
                {
                    Broken.Add($"task {e.Task} placed on vCPU {_target} but enqueued on vCPU {home}");
                }

                if (home != _from)
                {
                    Moved++;
                }
            }
        }

        public readonly int PickNextTask(int vcpu, int current, int fallback) => fallback;

        public readonly bool PreemptOnTick(int vcpu, int current) => true;

        public bool PreemptOnWakeup(int vcpu, int woken)
        {
            Checked++;
            if (vcpu != machine.Task(woken).Vcpu)
            {
                Broken.Add($"task {woken} on vCPU {machine.Task(woken).Vcpu} preemption-checked against vCPU {vcpu}");
            }

            return true;
        }

        public readonly bool PreemptOnAttach(int vcpu, int moved) => true;

        public int SelectTaskRq(int vcpu, int woken)
        {
            _task = woken;
            _from = machine.Task(woken).Vcpu;
            if (machine.Task(woken).Status != TaskPhase.Sleeping)
            {
                Broken.Add($"task {woken} placed while {machine.Task(woken).Status}, not asleep");
            }

            _target = balancer.WakeTarget(woken);
            if (_target != _from)
            {
                Asked++;
            }

            return _target;
        }
    }
}
