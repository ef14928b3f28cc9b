"""Gets one token with Python's azure-identity from the testkit's identity server and prints it.

Usage: identity_proof.py MODE SCOPE [CLIENT_ID]
  MODE secret      ClientSecretCredential; needs AUTHORITY (https://127.0.0.1:port), TENANT_ID,
                   CLIENT_ID, CLIENT_SECRET, and SSL_CERT_FILE/REQUESTS_CA_BUNDLE trusting the CA.
  MODE managed     ManagedIdentityCredential (system-assigned, or user-assigned by CLIENT_ID);
                   the environment picks IMDS (AZURE_POD_IDENTITY_AUTHORITY_HOST) or App Service
                   (IDENTITY_ENDPOINT + IDENTITY_HEADER).
Prints the access token on stdout; exits non-zero with the error on stderr.
"""
import os
import sys

from azure.identity import ClientSecretCredential, ManagedIdentityCredential


def main() -> int:
    mode, scope = sys.argv[1], sys.argv[2]
    if mode == "secret":
        credential = ClientSecretCredential(
            os.environ["TENANT_ID"],
            os.environ["CLIENT_ID"],
            os.environ["CLIENT_SECRET"],
            authority=os.environ["AUTHORITY"],
            # The stand-in is not a Microsoft-known host: skip instance discovery, which would go
            # to login.microsoftonline.com; MSAL then reads <authority>/<tenant>/v2.0/.well-known.
            disable_instance_discovery=True,
        )
    elif mode == "managed":
        client_id = sys.argv[3] if len(sys.argv) > 3 else None
        credential = ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    token = credential.get_token(scope)
    print(token.token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
