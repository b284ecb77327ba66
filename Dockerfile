# One image for both processes of docs/topologies.md: a silo (with the API co-hosted) and an API client.
#   docker build -t orleans-membership .
#   docker run orleans-membership silo/Orleans.Membership.Silo.dll --urls http://0.0.0.0:8080 ...
#   docker run orleans-membership api/Orleans.Membership.Api.dll --urls http://0.0.0.0:8080 ...
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Silo -c Release -o /app/silo \
 && dotnet publish src/Api -c Release -o /app/api

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
USER $APP_UID
EXPOSE 8080 11111 30000
ENTRYPOINT ["dotnet"]
CMD ["silo/Orleans.Membership.Silo.dll", "--urls", "http://0.0.0.0:8080"]
