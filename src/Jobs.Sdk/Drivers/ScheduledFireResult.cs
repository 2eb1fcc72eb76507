using System.Diagnostics.CodeAnalysis;

namespace Jobs.Sdk.Drivers;

/// <summary>What a scheduled fire did in the store (<see cref="IJobScheduleStore.PushScheduledAsync"/>).</summary>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public enum ScheduledFireOutcome
{
    /// <summary>The fire was already recorded (by any node): nothing was stored.</summary>
    AlreadyRecorded = 0,

    /// <summary>The fire was recorded and its job stored.</summary>
    Pushed = 1,

    /// <summary>
    /// The fire was recorded without a job: a job of the queue holds the job's <see cref="JobPushRecord.UniqueKey"/>
    /// (waiting or running, or finished less than its <see cref="JobPushRecord.UniqueFor"/> ago).
    /// </summary>
    KeyHeld = 2,

    /// <summary>The fire was recorded without a job: the schedule entry is paused.</summary>
    Paused = 3,
}

/// <summary>The outcome of a scheduled fire, and the job it concerns.</summary>
/// <param name="Outcome">What the fire did.</param>
/// <param name="JobId">
/// <see cref="ScheduledFireOutcome.Pushed"/>: the stored job's id; <see cref="ScheduledFireOutcome.KeyHeld"/>: the id of the
/// job that holds the key, when the store could tell (<see langword="null"/> when the holder let the key go before it was read);
/// otherwise <see langword="null"/>.
/// </param>
[Experimental(DriverSpi.DiagnosticId, Message = DriverSpi.Message)]
public readonly record struct ScheduledFireResult(ScheduledFireOutcome Outcome, JobId? JobId);
