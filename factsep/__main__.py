from factsep.cli import main

main()
