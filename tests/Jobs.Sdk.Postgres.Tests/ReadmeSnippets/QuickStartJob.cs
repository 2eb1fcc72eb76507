using Jobs.Sdk;

// README.md's code, compiled (ReadmeCodeBlockTests checks README shows each region verbatim): "Defining jobs".
namespace ReadmeSnippets.QuickStart;

#region readme-define-job
[Job("send-email", MaxAttempts = 5, TimeoutSeconds = 30)]
public partial record SendEmail(string To, string Subject);
#endregion
