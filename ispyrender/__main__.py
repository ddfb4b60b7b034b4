from ispyrender.cli import main

main()
