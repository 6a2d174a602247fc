
ÿ”§É‚@œ"-06:002Yni:///sha-256;00e1e6eba3a7cc6125be4793a631f0af50f8322e0ab5f2c0bab994a11cec1d79?ver=CBV2.0J$urn:epc:id:sgtin:0614141.107346.2018ö	receiving¢in_progress≤!urn:epc:id:sgln:0012345.11111.400¬urn:epc:id:sgln:0012345.11111.0“-
po'http://transaction.acme.com/po/12345678“1
desadv'urn:epcglobal:cbv:bt:0614141073467:1152˙Uexample:myFieldhttp://ns.example.com/epcis/""Example of a vendor/user extensionÇ'
examplehttp://ns.example.com/epcis/äYni:///sha-256;32547b2344d525ea60ab1b899d82a9011fd9c39bb26ed936e113066146f49941?ver=CBV2.0êÅ¬