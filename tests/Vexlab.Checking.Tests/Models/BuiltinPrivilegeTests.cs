using Vexlab.Checking.Models;
using Vexlab.Model.Guest;
using Vexlab.Model.Protocols;

namespace Vexlab.Checking.Tests.Models;

/// <summary>
/// The built-in models keep the rule model files are held to (TaskPrivilege): no task runs an op at
/// a privilege level it is not at, so no built-in counterexample has a user task clear IF.
/// </summary>
public sealed class BuiltinPrivilegeTests
{
    public static TheoryData<string> Models => new(BuiltinModels.Names);

    [Theory]
    [MemberData(nameof(Models))]
    public void Every_task_of_a_builtin_runs_each_op_where_it_may(string model)
    {
        foreach (var protocol in ProtocolCatalog.Names)
        {
            foreach (var task in BuiltinModels.Get(model).Build(protocol).Tasks)
            {
                var at = TaskPrivilege.FirstFault(task.Mode, task.Program.Code, out var fault);
                Assert.True(at < 0, $"{model} under {protocol}: task {task.Name} op {at} ({(at < 0 ? default : task.Program.Code[at].Op)}): {fault}");
            }
        }
    }
}
