namespace Ferry.Worker.Verify;

/// <summary>A table comparison that could not be made: <c>verify.qvp.users: verify failed: …</c>. The cause stays the inner exception.</summary>
public sealed class TableVerifyException(string message, Exception? cause = null) : Exception(message, cause);
