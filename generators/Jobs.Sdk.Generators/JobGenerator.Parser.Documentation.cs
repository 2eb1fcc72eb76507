using System;
using System.Collections.Generic;
using System.Linq;
using System.Xml.Linq;

namespace Jobs.Sdk.Generators;

public sealed partial class JobGenerator
{
    // The summary and parameter docs of the job type and its constructor, carried onto the generated push methods.
    internal static partial class Parser
    {
        private sealed class Documentation
        {
            public string? Summary { get; set; }
            public Dictionary<string, string> Parameters { get; } = new(StringComparer.Ordinal);
        }

        private static Documentation ParseDocumentation(string? xml)
        {
            var result = new Documentation();
            if (string.IsNullOrWhiteSpace(xml))
            {
                return result;
            }

            try
            {
                var root = XElement.Parse(xml);
                if (root.Element("summary") is { } summary)
                {
                    result.Summary = InnerXml(summary);
                }

                foreach (var param in root.Elements("param"))
                {
                    if (param.Attribute("name")?.Value is { } name)
                    {
                        result.Parameters[name] = InnerXml(param);
                    }
                }
            }
            catch (System.Xml.XmlException)
            {
                // Malformed documentation: fall back to generated text.
            }

            return result;
        }

        private static string InnerXml(XElement element)
        {
            var text = string.Concat(element.Nodes().Select(n => n.ToString(SaveOptions.DisableFormatting)));
            var lines = text.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0);
            return string.Join(" ", lines);
        }
    }
}
