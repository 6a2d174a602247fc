
ÿ„Ò∞·@œ"-06:002Yni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0J$urn:epc:id:sgtin:0614141.107346.2017J$urn:epc:id:sgtin:0614141.107346.2018öshipping¢
in_transit≤"urn:epc:id:sgln:0614141.07346.1234“-
po'http://transaction.acme.com/po/12345678Ç'
examplehttp://ns.example.com/epcis/äYni:///sha-256;df6523665bc5e5803d6c7b84f5a04e103694d8220f2abc4f2c74310e89f31bc6?ver=CBV2.0êÅB