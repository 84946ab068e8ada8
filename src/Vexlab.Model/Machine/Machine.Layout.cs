namespace Vexlab.Model.Machine;

/// <summary>
/// Where each region of a machine's state array lies: byte offsets and record counts. Drivers that
/// rewrite whole states (the checker's symmetry reduction permutes vCPU and task records) read it
/// instead of repeating the machine's layout.
/// </summary>
public readonly record struct StateLayout(
    int Size,
    int Vcpus,
    int Tasks,
    int MaxDepth,
    int VcpuOffset,
    int TaskOffset,
    int FrameOffset,
    int WorkOffset,
    int WorkCapacity,
    int SleepOffset,
    int SleepCapacity,
    int RingOffset,
    int RingCapacity,
    int PageOffset,
    int Pages);

public sealed partial class Machine
{
    /// <summary>The layout of this machine's state array (fixed by its configuration).</summary>
    public StateLayout Layout => new(
        _size,
        _vcpus,
        _tasks,
        _maxDepth,
        _vcpuOffset,
        _taskOffset,
        _frameOffset,
        _workOffset,
        _workCapacity,
        _sleepOffset,
        _sleepCapacity,
        _ringOffset,
        _ringCapacity,
        _pageOffset,
        _config.Pages);
}
