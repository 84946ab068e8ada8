using System.CommandLine;
using System.Text.Json.Nodes;
using Vexlab.Checking.Models;
using Vexlab.Cli.Infrastructure;

namespace Vexlab.Cli.Commands;

/// <summary><c>vexlab models list|show</c>: the checker's built-in models.</summary>
public static class ModelsCommand
{
    public static Command Create(CliContext context)
    {
        var models = new Command("models", "List and describe the checker's built-in models");

        var listJson = JsonTarget.CreateOption();
        var list = new Command("list", "List the built-in models");
        list.Options.Add(listJson);
        list.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, listJson);
            var w = context.HumanWriter(target);
            var width = BuiltinModels.All.Max(m => m.Name.Length);
            var columns = context.TableWidth(context.Human(target), wide: false);
            var array = new JsonArray();
            foreach (var m in BuiltinModels.All)
            {
                TerminalWidth.WriteListEntry(w, columns, m.Name, width, m.Description + (m.InMatrix ? string.Empty : " (not in --matrix)"));
                array.Add(Describe(m));
            }

            var doc = ResultDocument.Create();
            doc["models"] = array;
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });

        var name = new Argument<string>("NAME") { Description = "The model" };
        var showJson = JsonTarget.CreateOption();
        var show = new Command("show", "Describe one built-in model: workload, pages, bounds and knobs");
        show.Arguments.Add(name);
        show.Options.Add(showJson);
        show.SetAction(parse =>
        {
            var target = JsonTarget.From(parse, showJson);
            var m = BuiltinModels.Get(parse.GetValue(name)!);
            var c = m.Build("kvm-pf-int");
            var w = context.HumanWriter(target);
            w.WriteLine($"{m.Name}: {m.Description}");
            w.WriteLine($"  vCPUs {c.Vcpus}, pages {c.Pages}, entry page {c.EntryPage}, NMI touch page {c.NmiTouchPage}");
            w.WriteLine($"  bounds: NMIs {m.Bounds.Nmis}, ticks {m.Bounds.Ticks}, truncations {m.Bounds.Truncations}, re-enables {m.Bounds.Reenables}, SMIs {m.Bounds.Smis}, INITs {m.Bounds.Inits}, teardowns {m.Bounds.Teardowns}, migrations {m.Bounds.Migrations}, host exits {m.Bounds.HostExits}");
            w.WriteLine("  knobs: " + (m.Knobs.Count == 0 ? "(protocol defaults)" : string.Join(", ", m.Knobs.Select(k => k.Key + "=" + k.Value))));
            foreach (var g in c.PageGroups)
            {
                w.WriteLine($"  pages {g.FirstPage}..{g.FirstPage + g.PageCount - 1}: host {g.Host}, guest PTE {(g.GuestPresent ? "present" : "not present")}{(g.Dax ? ", DAX" : string.Empty)}");
            }

            foreach (var t in c.Tasks)
            {
                w.WriteLine($"  task {t.Name} ({t.Mode}, vCPU{t.Vcpu}): {string.Join("; ", t.Program.Code.Select(i => i.ToString()))}");
            }

            var doc = ResultDocument.Create();
            foreach (var (key, value) in Describe(m).ToList())
            {
                doc[key] = value?.DeepClone();
            }

            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });

        models.Subcommands.Add(list);
        models.Subcommands.Add(show);
        return models;
    }

    private static JsonObject Describe(BuiltinModel m)
    {
        var knobs = new JsonObject();
        foreach (var (k, v) in m.Knobs)
        {
            knobs[k] = v;
        }

        return new JsonObject
        {
            ["name"] = m.Name,
            ["description"] = m.Description,
            ["in_matrix"] = m.InMatrix,
            ["knobs"] = knobs,
            ["bounds"] = new JsonObject
            {
                ["nmis"] = m.Bounds.Nmis,
                ["ticks"] = m.Bounds.Ticks,
                ["truncations"] = m.Bounds.Truncations,
                ["reenables"] = m.Bounds.Reenables,
                ["smis"] = m.Bounds.Smis,
                ["inits"] = m.Bounds.Inits,
                ["teardowns"] = m.Bounds.Teardowns,
                ["migrations"] = m.Bounds.Migrations,
                ["host_exits"] = m.Bounds.HostExits,
            },
        };
    }
}
