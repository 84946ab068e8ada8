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
            // In a model file's words (docs/checking.md, "Model files"): the keys that put a page in each state and
            // the program ops, not the model's enum names (AbsentIo, User, "KTouch 4 1").
            foreach (var g in c.PageGroups)
            {
                w.WriteLine($"  pages {g.FirstPage}..{g.FirstPage + g.PageCount - 1}: {PageText(g)}");
            }

            foreach (var t in c.Tasks)
            {
                w.WriteLine($"  task {t.Name} ({ModelFile.ModeText(t.Mode)}, vCPU{t.Vcpu}): {ModelFile.ProgramText(t.Program.Code)}");
            }

            var doc = ResultDocument.Create();
            foreach (var (key, value) in Describe(m).ToList())
            {
                doc[key] = value?.DeepClone();
            }

            // What the text says of the workload and pages, in a model file's keys: the JSON had only the name,
            // knobs and bounds, though the command is the way to read a built-in model's workload.
            doc["vcpus"] = c.Vcpus;
            doc["pages"] = c.Pages;
            doc["entry_page"] = c.EntryPage;
            doc["nmi_touch_page"] = c.NmiTouchPage;
            doc["page_groups"] = new JsonArray([.. c.PageGroups.Select(g => (JsonNode)new JsonObject
            {
                ["first"] = g.FirstPage,
                ["last"] = g.FirstPage + g.PageCount - 1,
                ["state"] = PageText(g),
            })]);
            doc["tasks"] = new JsonArray([.. c.Tasks.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name,
                ["mode"] = ModelFile.ModeText(t.Mode),
                ["vcpu"] = t.Vcpu,
                ["program"] = ModelFile.ProgramText(t.Program.Code),
            })]);
            ResultDocument.Write(context, target, doc);
            return ExitCodes.Done;
        });

        models.Subcommands.Add(list);
        models.Subcommands.Add(show);
        return models;
    }

    /// <summary>
    /// A page group's state as the model file keys that give it: <c>host_absent</c> (absent in the host, needing I/O),
    /// <c>guest_absent</c> (guest PTE not present), <c>dax</c>; a page in none of them is resident and mapped.
    /// </summary>
    internal static string PageText(Model.Machine.PageGroupSpec g)
    {
        var words = new List<string>
        {
            g.Host switch
            {
                Model.Host.HostPage.AbsentIo => "host_absent",
                Model.Host.HostPage.AbsentNoIo => "absent in the host, filled without I/O",
                Model.Host.HostPage.Unrecoverable => "unrecoverable (its DAX file truncated)",
                _ => "resident",
            },
        };
        if (!g.GuestPresent)
        {
            words.Add("guest_absent");
        }

        if (g.Dax)
        {
            words.Add("dax");
        }

        return string.Join(", ", words);
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
