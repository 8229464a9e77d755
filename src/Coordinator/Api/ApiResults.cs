using Microsoft.AspNetCore.Http;

namespace Ferry.Coordinator.Api;

/// <summary>Every response body goes through here: the API's JSON options, errors as {"error": "…"}.</summary>
public static class ApiResults
{
    public static IResult Json(object value, int status = StatusCodes.Status200OK) =>
        Results.Json(value, ApiJson.Options, statusCode: status);

    public static IResult Error(int status, string message) => Json(new ApiError(message), status);

    /// <summary>An answer of a type the API does not expect: the two sides of the protocol disagree.</summary>
    public static IResult Unexpected(string who, object answer) =>
        answer is Akka.Actor.Status.Failure failure
            ? Error(StatusCodes.Status502BadGateway, $"{who} failed: {OneLine(failure.Cause?.Message)}")
            : Error(StatusCodes.Status502BadGateway, $"{who} answered with an unexpected {answer.GetType().Name}");

    public static string OneLine(string? message) =>
        message is null ? "no message" : message.ReplaceLineEndings(" ").Trim();
}
