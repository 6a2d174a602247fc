
ØÓ¤ƒâ@Ï"-06:00J,https://id.gs1.org/01/70614141123451/21/2018š	receiving¢in_progress²!urn:epc:id:sgln:0012345.11111.400Âurn:epc:id:sgln:0012345.11111.0ú7
fgh:a-datehttps://ns.fgh.co.uk/epcis/"
2023-10-09úUexample:myFieldhttp://ns.example.com/epcis/""Example of a vendor/user extensionú.abc:a-integerhttps://ns.abc.de/epcis/"2ú.abc:z-integerhttps://ns.abc.de/epcis/"1ú9schema:awardhttps://schema.org/"Order of Standardsú)
schema:mpnhttps://schema.org/"4711ú&sdo:nsnhttps://schema.org/"4712‚
abchttps://ns.abc.de/epcis/‚'
examplehttp://ns.example.com/epcis/‚"
fghhttps://ns.fgh.co.uk/epcis/‚
schemahttps://schema.org/‚
sdohttps://schema.org/ŠYni:///sha-256;962b81a19a5d2652b43016c17c1a85acfa667155c53523086d22a0b566e7ee04?ver=CBV2.0À