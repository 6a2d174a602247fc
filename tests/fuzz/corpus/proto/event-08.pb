
ÿ„Ò∞·@œ"-06:002Yni:///sha-256;aa49daa1fe0b773e0437e546078dc87de9c864d5b9babe84488f31478887fdf3?ver=CBV2.0B£
ößµ¸Î]incorrect_dataYni:///sha-256;c6407ffcac52ec159528f2b556ba4ac3844c5aa48485c1fd61643e94f0a2d678?ver=CBV2.0-urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6J$urn:epc:id:sgtin:0614141.107346.2017J$urn:epc:id:sgtin:0614141.107346.2018öshipping¢
in_transit≤"urn:epc:id:sgln:0614141.07346.1234“-
po'http://transaction.acme.com/po/12345678Ç'
examplehttp://ns.example.com/epcis/äYni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0êÅB