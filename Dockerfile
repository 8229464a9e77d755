# One image for every Ferry role: `ferry coordinator`, `ferry worker`, `ferry standalone`, and the CLI.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Cli -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
RUN printf '#!/bin/sh\nexec dotnet /app/ferry.dll "$@"\n' > /usr/local/bin/ferry && chmod +x /usr/local/bin/ferry
ENV FERRY_METADATA=/app/metadata FERRY_HOME=/var/lib/ferry
ENTRYPOINT ["dotnet", "/app/ferry.dll"]
